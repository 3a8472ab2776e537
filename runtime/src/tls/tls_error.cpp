// TLS errors: OpenSSL's error queue turned into the text of a green::TlsError.
#include <openssl/err.h>

#include "green/tls.hpp"
#include "tls_internal.hpp"

namespace green::detail {

std::string tls_error_text(std::string_view op, std::string_view fallback) {
    std::string text(op);
    text += ": ";
    bool any = false;
    while (const unsigned long e = ERR_get_error()) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        if (any) text += "; ";
        // "error:0A000086:SSL routines::certificate verify failed": keep the reason only.
        const char* reason = ERR_reason_error_string(e);
        text += reason ? reason : buf;
        any = true;
    }
    if (!any) text += fallback;
    return text;
}

void throw_tls_error(std::string_view op, std::string_view fallback) {
    throw TlsError(tls_error_text(op, fallback));
}

}  // namespace green::detail
