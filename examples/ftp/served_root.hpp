// The directory an FTP server serves, and the only way a client's path becomes a host path:
// names are joined to the session's virtual working directory and normalised lexically (".."
// stops at "/"), then the host path is resolved with realpath and must lie inside the root, so
// neither ".." nor a symlink can reach anything outside it.
#pragma once

#include <stdexcept>
#include <string>

namespace ftp {

// A path the client may not use; what() is the reply text (after the code).
class PathError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

class ServedRoot {
  public:
    // Throws std::invalid_argument unless `dir` is an existing directory.
    explicit ServedRoot(const std::string& dir);

    const std::string& host_path() const { return real_; }

    // `arg` (absolute or relative to `cwd`) as a normalised virtual path ("/", "/a/b").
    static std::string join(const std::string& cwd, const std::string& arg);

    // The host path of an existing entry, every symlink resolved. PathError if it does not
    // exist or resolves outside the root.
    std::string existing(const std::string& vpath) const;
    // The host path for creating `vpath` (STOR, MKD): its parent must exist inside the root;
    // if the name already exists it is resolved like existing() (a symlink is followed only
    // when it points inside).
    std::string creatable(const std::string& vpath) const;
    // The host path of the entry itself, without following a final symlink (DELE, RMD
    // remove the link, not its target); the parent must resolve inside the root.
    std::string entry(const std::string& vpath) const;

  private:
    bool inside(const std::string& real) const;
    std::string parent_of(const std::string& vpath, std::string& name) const;

    std::string real_;
};

}  // namespace ftp
