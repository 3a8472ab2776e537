// Name resolution hooks: getaddrinfo, getnameinfo, gethostbyname, gethostbyname2 and their _r
// forms. glibc's resolver talks to the DNS server through its own internal socket functions,
// which no interposer can reach, so in a fiber the whole call runs on the offload pool while
// the hub keeps running others. Each job works on its own copies and buffers: a fiber that is
// killed while waiting leaves the job writing into memory that is still its own.
#include <netdb.h>
#include <sys/socket.h>

#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "green/threadpool.hpp"
#include "hook_common.hpp"

namespace green::hooks {

namespace {

struct AddrinfoJob {
    int rc = 0;
    int err = 0;
    std::unique_ptr<addrinfo, void (*)(addrinfo*)> list{nullptr, &::freeaddrinfo};
};

struct HostJob {
    std::vector<char> buf;  // what he points into; moving the vector keeps the addresses
    hostent he{};
    bool found = false;
    int herr = 0;
    int rc = 0;
};

struct NameJob {
    int rc = 0;
    int err = 0;
    std::vector<char> host, serv;
};

// Runs job on the offload pool; failures to get a pool thread become `fail`.
template <class R, class Job>
R offloaded(Job job, R fail) {
    try {
        return green::offload(std::move(job));
    } catch (const std::bad_alloc&) {
        return fail;
    } catch (const std::system_error& e) {
        errno = e.code().value();
        return fail;
    }
}

// Copies a hostent whose strings and arrays live in src[0, len) into dst[0, len), pointing
// every pointer at the copy.
hostent relocate(const hostent& he, const char* src, char* dst, std::size_t len) {
    if (len) std::memcpy(dst, src, len);
    auto inside = [&](const void* p) {
        auto* c = static_cast<const char*>(p);
        return c >= src && c < src + len;
    };
    auto moved = [&](auto* p) {
        if (!inside(p)) return p;
        return reinterpret_cast<decltype(p)>(dst + (reinterpret_cast<const char*>(p) - src));
    };
    hostent out = he;
    out.h_name = moved(he.h_name);
    for (char*** list : {&out.h_aliases, &out.h_addr_list}) {
        const bool owned = inside(*list);
        *list = moved(*list);
        if (owned && *list)
            for (char** p = *list; *p; ++p) *p = moved(*p);
    }
    return out;
}

// gethostbyname(2)_r into a caller's buffer: the job resolves into a buffer of the same size.
template <class Resolve>
int host_r(Resolve resolve, hostent* ret, char* buf, std::size_t buflen, hostent** result,
           int* h_errnop) {
    HostJob failed;
    failed.rc = ENOMEM;
    failed.herr = NETDB_INTERNAL;
    HostJob j = offloaded(
        [resolve, buflen] {
            HostJob job;
            job.buf.resize(buflen);
            hostent* r = nullptr;
            job.rc = resolve(&job.he, job.buf.data(), buflen, &r, &job.herr);
            job.found = r != nullptr;
            return job;
        },
        std::move(failed));
    if (j.found) {
        *ret = relocate(j.he, j.buf.data(), buf, buflen);
        *result = ret;
    } else {
        *result = nullptr;
    }
    if (h_errnop) *h_errnop = j.herr;
    return j.rc;
}

// gethostbyname(2): the result lives in per-thread storage until the thread's next call, as
// libc's static buffer does (libc's is even shared by all threads).
struct HostStorage {
    hostent he{};
    std::vector<char> buf;
};
thread_local HostStorage t_host;

template <class Resolve>
hostent* host_static(Resolve resolve) {
    HostJob failed;
    failed.herr = NETDB_INTERNAL;
    HostJob j = offloaded(
        [resolve] {
            HostJob job;
            for (std::size_t len = 1024;; len *= 2) {
                job.buf.assign(len, 0);
                hostent* r = nullptr;
                job.rc = resolve(&job.he, job.buf.data(), len, &r, &job.herr);
                if (job.rc == ERANGE && len < (std::size_t{1} << 22)) continue;
                job.found = r != nullptr;
                return job;
            }
        },
        std::move(failed));
    if (!j.found) {
        h_errno = j.herr;
        return nullptr;
    }
    t_host.buf = std::move(j.buf);
    t_host.he = j.he;
    return &t_host.he;
}

}  // namespace

}  // namespace green::hooks

using namespace green::hooks;

extern "C" {

int getaddrinfo(const char* node, const char* service, const addrinfo* hints, addrinfo** res) {
    auto real = GREEN_REAL(getaddrinfo);
    if (!real) {
        errno = ENOSYS;
        return EAI_SYSTEM;
    }
    if (!route(Need::Io) || !res) return real(node, service, hints, res);
    std::optional<std::string> n, s;
    if (node) n = node;
    if (service) s = service;
    // Only these hint fields are meaningful; the rest must be zero.
    addrinfo h{};
    if (hints) {
        h.ai_flags = hints->ai_flags;
        h.ai_family = hints->ai_family;
        h.ai_socktype = hints->ai_socktype;
        h.ai_protocol = hints->ai_protocol;
    }
    const bool has_hints = hints != nullptr;
    AddrinfoJob failed;
    failed.rc = EAI_SYSTEM;
    AddrinfoJob out = offloaded(
        [real, n, s, h, has_hints] {
            AddrinfoJob job;
            addrinfo* list = nullptr;
            job.rc = real(n ? n->c_str() : nullptr, s ? s->c_str() : nullptr,
                          has_hints ? &h : nullptr, &list);
            job.err = errno;
            if (job.rc == 0) job.list.reset(list);
            return job;
        },
        std::move(failed));
    if (out.rc == 0) *res = out.list.release();
    if (out.rc == EAI_SYSTEM && out.err) errno = out.err;
    return out.rc;
}

int getnameinfo(const sockaddr* sa, socklen_t salen, char* host, socklen_t hostlen, char* serv,
                socklen_t servlen, int flags) {
    auto real = GREEN_REAL(getnameinfo);
    if (!real) return EAI_SYSTEM;
    if (!route(Need::Io) || !sa || salen > sizeof(sockaddr_storage))
        return real(sa, salen, host, hostlen, serv, servlen, flags);
    sockaddr_storage addr{};
    std::memcpy(&addr, sa, salen);
    const bool want_host = host && hostlen;
    const bool want_serv = serv && servlen;
    NameJob failed;
    failed.rc = EAI_SYSTEM;
    NameJob out = offloaded(
        [=] {
            NameJob job;
            job.host.resize(want_host ? hostlen : 0);
            job.serv.resize(want_serv ? servlen : 0);
            job.rc = real(reinterpret_cast<const sockaddr*>(&addr), salen,
                          want_host ? job.host.data() : nullptr, want_host ? hostlen : 0,
                          want_serv ? job.serv.data() : nullptr, want_serv ? servlen : 0, flags);
            job.err = errno;
            return job;
        },
        std::move(failed));
    if (out.rc == 0) {
        if (want_host) std::memcpy(host, out.host.data(), hostlen);
        if (want_serv) std::memcpy(serv, out.serv.data(), servlen);
    }
    if (out.rc == EAI_SYSTEM && out.err) errno = out.err;
    return out.rc;
}

hostent* gethostbyname(const char* name) {
    auto real = GREEN_REAL(gethostbyname);
    auto real_r = GREEN_REAL(gethostbyname_r);
    if (!route(Need::Io) || !name || !real_r) return real ? real(name) : nullptr;
    return host_static([real_r, n = std::string(name)](hostent* he, char* buf, std::size_t len,
                                                       hostent** r, int* herr) {
        return real_r(n.c_str(), he, buf, len, r, herr);
    });
}

hostent* gethostbyname2(const char* name, int af) {
    auto real = GREEN_REAL(gethostbyname2);
    auto real_r = GREEN_REAL(gethostbyname2_r);
    if (!route(Need::Io) || !name || !real_r) return real ? real(name, af) : nullptr;
    return host_static([real_r, af, n = std::string(name)](hostent* he, char* buf, std::size_t len,
                                                           hostent** r, int* herr) {
        return real_r(n.c_str(), af, he, buf, len, r, herr);
    });
}

int gethostbyname_r(const char* name, hostent* ret, char* buf, size_t buflen, hostent** result,
                    int* h_errnop) {
    auto real = GREEN_REAL(gethostbyname_r);
    if (!real) return ENOSYS;
    if (!route(Need::Io) || !name || !ret || !buf || !result)
        return real(name, ret, buf, buflen, result, h_errnop);
    return host_r(
        [real, n = std::string(name)](hostent* he, char* b, std::size_t len, hostent** r,
                                      int* herr) { return real(n.c_str(), he, b, len, r, herr); },
        ret, buf, buflen, result, h_errnop);
}

int gethostbyname2_r(const char* name, int af, hostent* ret, char* buf, size_t buflen,
                     hostent** result, int* h_errnop) {
    auto real = GREEN_REAL(gethostbyname2_r);
    if (!real) return ENOSYS;
    if (!route(Need::Io) || !name || !ret || !buf || !result)
        return real(name, af, ret, buf, buflen, result, h_errnop);
    return host_r([real, af, n = std::string(name)](
                      hostent* he, char* b, std::size_t len, hostent** r,
                      int* herr) { return real(n.c_str(), af, he, b, len, r, herr); },
                  ret, buf, buflen, result, h_errnop);
}

}  // extern "C"
