// Path confinement for the FTP servers (see served_root.hpp).
#include "served_root.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace ftp {

namespace {

// realpath as a string; empty on failure (errno set).
std::string resolve(const std::string& path) {
    char buf[PATH_MAX];
    if (!::realpath(path.c_str(), buf)) return {};
    return buf;
}

}  // namespace

ServedRoot::ServedRoot(const std::string& dir) : real_(resolve(dir)) {
    struct stat st {};
    if (real_.empty() || ::stat(real_.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        throw std::invalid_argument("--root " + dir + ": not a directory");
}

std::string ServedRoot::join(const std::string& cwd, const std::string& arg) {
    const std::string whole = !arg.empty() && arg[0] == '/' ? arg : cwd + "/" + arg;
    std::vector<std::string> parts;
    std::size_t pos = 0;
    while (pos <= whole.size()) {
        std::size_t slash = whole.find('/', pos);
        if (slash == std::string::npos) slash = whole.size();
        const std::string part = whole.substr(pos, slash - pos);
        if (part == "..") {
            if (!parts.empty()) parts.pop_back();
        } else if (!part.empty() && part != ".") {
            parts.push_back(part);
        }
        pos = slash + 1;
    }
    std::string out;
    for (const auto& p : parts) out += "/" + p;
    return out.empty() ? "/" : out;
}

bool ServedRoot::inside(const std::string& real) const {
    return real == real_ || (real.compare(0, real_.size(), real_) == 0 &&
                             real.size() > real_.size() && real[real_.size()] == '/');
}

std::string ServedRoot::existing(const std::string& vpath) const {
    const std::string real = resolve(real_ + (vpath == "/" ? "" : vpath));
    if (real.empty()) throw PathError(vpath + ": " + std::strerror(errno));
    if (!inside(real)) throw PathError(vpath + ": Permission denied (outside the served root)");
    return real;
}

std::string ServedRoot::parent_of(const std::string& vpath, std::string& name) const {
    if (vpath == "/") throw PathError("/: Permission denied (the root itself)");
    const std::size_t slash = vpath.rfind('/');
    name = vpath.substr(slash + 1);
    const std::string parent = existing(slash == 0 ? "/" : vpath.substr(0, slash));
    struct stat st {};
    if (::stat(parent.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        throw PathError(vpath + ": Not a directory");
    return parent;
}

std::string ServedRoot::creatable(const std::string& vpath) const {
    std::string name;
    const std::string parent = parent_of(vpath, name);
    struct stat st {};
    if (::lstat((parent + "/" + name).c_str(), &st) == 0) {
        if (!S_ISLNK(st.st_mode)) return parent + "/" + name;
        // A symlink: writing through it is allowed only if its target is inside. A dangling
        // link is refused, since creating its target could land anywhere.
        const std::string real = resolve(parent + "/" + name);
        if (real.empty() || !inside(real))
            throw PathError(vpath + ": Permission denied (outside the served root)");
        return real;
    }
    return parent + "/" + name;
}

std::string ServedRoot::entry(const std::string& vpath) const {
    std::string name;
    return parent_of(vpath, name) + "/" + name;
}

}  // namespace ftp
