"""subprocess from threads, knowing nothing of green: three children waited for with
Popen.wait (waitpid on one pid) and subprocess.run, while a ticker thread ticks. The children
wait at a gate that another thread opens once the ticker moved 3 ticks, so a wait returns only
after the ticker moved: natively it always does; under the preload a wait that held the hub
would stop the ticker and the opener, and the children would give up at the gate (status 124).
stdout must be the same both ways."""
import subprocess

from gate import Gate, Ticker

ticker = Ticker()
gate = Gate()
children = [subprocess.Popen(["sh", "-c", gate.shell_wait], pass_fds=gate.fds) for _ in range(3)]
opener = gate.open_after(ticker)
print("wait:", [p.wait() for p in children])
opener.join()
gate.remove()
ticked = gate.ticked

gate = Gate()
opener = gate.open_after(ticker)
print("run:", subprocess.run(["sh", "-c", gate.shell_wait + " && exit 3"],
                             pass_fds=gate.fds).returncode)
opener.join()
gate.remove()
ticker.stop()
print("ticker", "ok" if ticked and gate.ticked else "held up")
