// subprocess::run (start, communicate, wait, check) and the subprocess errors, whose messages
// follow Python's ("Command 'false' returned non-zero exit status 1").
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "green/subprocess.hpp"

namespace green::subprocess {

namespace {

std::string joined(const std::vector<std::string>& args) {
    std::string s;
    for (const auto& a : args) {
        if (!s.empty()) s += ' ';
        s += a;
    }
    return s;
}

std::string failure_text(int returncode, const std::vector<std::string>& cmd) {
    std::string s = "Command '" + joined(cmd) + "' ";
    if (returncode < 0)
        return s + "died with signal " + std::to_string(-returncode) + " (" +
               ::strsignal(-returncode) + ")";
    return s + "returned non-zero exit status " + std::to_string(returncode);
}

}  // namespace

CalledProcessError::CalledProcessError(int rc, std::vector<std::string> c, std::string o,
                                       std::string e)
    : SubprocessError(failure_text(rc, c)),
      returncode(rc),
      cmd(std::move(c)),
      out(std::move(o)),
      err(std::move(e)) {}

TimeoutExpired::TimeoutExpired(std::vector<std::string> c, std::string o, std::string e)
    : SubprocessError("Command '" + joined(c) + "' timed out"),
      cmd(std::move(c)),
      out(std::move(o)),
      err(std::move(e)) {}

void CompletedProcess::check_returncode() const {
    if (returncode != 0) throw CalledProcessError(returncode, args, out, err);
}

CompletedProcess run(std::vector<std::string> args, Options options) {
    if (options.input) options.in = PIPE;
    if (options.capture_output) {
        if (options.out != Redirect::Inherit || options.err != Redirect::Inherit)
            throw std::invalid_argument("green::subprocess::run: capture_output with out or err");
        options.out = options.err = PIPE;
    }
    Popen p(std::move(args), options);
    std::pair<std::string, std::string> output;
    try {
        output =
            p.communicate(options.input ? *options.input : std::string_view(), options.timeout);
    } catch (const TimeoutExpired&) {
        p.kill();
        p.wait();
        throw;
    }
    CompletedProcess done{p.args(), *p.returncode(), std::move(output.first),
                          std::move(output.second)};
    if (options.check) done.check_returncode();
    return done;
}

}  // namespace green::subprocess
