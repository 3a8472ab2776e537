// One FTP control connection (RFC 959, EPSV from RFC 2428, SIZE from RFC 3659): login,
// navigation, listings, passive data transfers, file management, all confined to the served
// root. Used unchanged by the threaded server and the green one; only the Transport differs.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "options.hpp"
#include "served_root.hpp"
#include "transport.hpp"

namespace ftp {

class Session {
  public:
    Session(Transport& transport, const ServedRoot& root, const Options& options);

    // Greets the client and serves commands until QUIT or the connection ends. Socket errors
    // on the control connection end it too (std::system_error escapes to the caller).
    void run();

  private:
    void reply(int code, const std::string& text);
    std::optional<std::string> read_command();
    bool dispatch(const std::string& verb, const std::string& arg);  // false: end the session

    void user(const std::string& arg);
    void pass(const std::string& arg);
    void cwd(const std::string& arg);
    void list(const std::string& arg, bool names_only);
    void retr(const std::string& arg);
    void stor(const std::string& arg);
    void size(const std::string& arg);
    void type(const std::string& arg);
    void pasv(bool extended, const std::string& arg);
    void dele(const std::string& arg);
    void mkd(const std::string& arg);
    void rmd(const std::string& arg);

    bool may_write();
    // Accepts the data connection announced by PASV/EPSV after the 150 reply; replies 425
    // and returns nullptr when there is none.
    std::unique_ptr<Stream> open_data(const std::string& what);
    std::string vpath(const std::string& arg) const { return ServedRoot::join(cwd_, arg); }

    Transport& transport_;
    const ServedRoot& root_;
    const Options& options_;
    std::string inbuf_;
    std::string cwd_ = "/";
    std::optional<std::string> pending_user_;
    bool logged_in_ = false, anonymous_ = false, ascii_ = false;
    std::unique_ptr<PassiveListener> passive_;
};

}  // namespace ftp
