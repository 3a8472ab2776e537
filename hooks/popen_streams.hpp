// Which FILEs the popen hook opened: glibc's fclose of a popen stream is its pclose (waits and
// returns the wait status), so the fclose hook hands such a stream to pclose.
#pragma once

#include <stdio.h>

namespace green::hooks {

// True if `fp` is an open stream of the popen hook. One relaxed load while none is open.
bool is_popen_stream(FILE* fp) noexcept;

}  // namespace green::hooks
