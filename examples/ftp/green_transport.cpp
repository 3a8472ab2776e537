// green::Socket behind the FTP Transport (see green_transport.hpp).
#include "green_transport.hpp"

namespace ftp {

namespace {

class GreenListener : public PassiveListener {
  public:
    explicit GreenListener(green::Socket sock) : sock_(std::move(sock)) {}
    std::uint16_t port() const override { return sock_.getsockname().port(); }
    std::unique_ptr<Stream> accept(std::chrono::milliseconds limit) override {
        try {
            return std::make_unique<GreenStream>(sock_.accept(green::Deadline(limit)).first);
        } catch (const green::Timeout&) {
            return nullptr;
        }
    }

  private:
    green::Socket sock_;
};

}  // namespace

GreenTransport::GreenTransport(green::Socket& control)
    : control_(control), local_(control.getsockname()) {}

std::unique_ptr<PassiveListener> GreenTransport::listen_passive() {
    green::Socket sock = green::Socket::tcp(local_.family());
    sock.bind(green::Address(local_.host(), 0));
    sock.listen(1);
    return std::make_unique<GreenListener>(std::move(sock));
}

}  // namespace ftp
