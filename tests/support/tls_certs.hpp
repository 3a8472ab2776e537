// Certificates made at test time with OpenSSL's API (no private key is ever committed): a CA and
// leaf certificates it signs, for given names and validity, as PEM text and as files in a temp
// directory, for the TLS tests.
#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace green_test {

struct PemPair {
    std::string cert;
    std::string key;
};

class CertAuthority {
  public:
    explicit CertAuthority(const std::string& name = "green test CA") : key_(new_key()) {
        cert_ = make(name, name, key_, key_, {}, 0, 3600, true, nullptr);
    }
    ~CertAuthority() {
        X509_free(cert_);
        EVP_PKEY_free(key_);
    }
    CertAuthority(const CertAuthority&) = delete;
    CertAuthority& operator=(const CertAuthority&) = delete;

    std::string cert_pem() const { return pem(cert_); }

    // A leaf for `names` (DNS names; "127.0.0.1"-style entries become IP SANs), valid from
    // now + from_s to now + to_s seconds.
    PemPair issue(const std::string& cn, const std::vector<std::string>& names, long from_s = -60,
                  long to_s = 3600) const {
        EVP_PKEY* key = new_key();
        X509* cert = make(cn, "green test CA", key, key_, names, from_s, to_s, false, cert_);
        PemPair out{pem(cert), key_pem(key)};
        X509_free(cert);
        EVP_PKEY_free(key);
        return out;
    }

  private:
    static EVP_PKEY* new_key() {
        EVP_PKEY* k = EVP_EC_gen("P-256");
        if (!k) throw std::runtime_error("EVP_EC_gen failed");
        return k;
    }
    static void add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
        X509V3_CTX ctx;
        X509V3_set_ctx_nodb(&ctx);
        X509V3_set_ctx(&ctx, issuer ? issuer : cert, cert, nullptr, nullptr, 0);
        X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
        if (!ext) throw std::runtime_error("X509V3_EXT_conf_nid failed: " + value);
        X509_add_ext(cert, ext, -1);
        X509_EXTENSION_free(ext);
    }
    static X509* make(const std::string& cn, const std::string& issuer_cn, EVP_PKEY* key,
                      EVP_PKEY* signer, const std::vector<std::string>& names, long from_s,
                      long to_s, bool ca, X509* issuer) {
        static long serial = 1;
        X509* c = X509_new();
        X509_set_version(c, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(c), ++serial);
        X509_gmtime_adj(X509_getm_notBefore(c), from_s);
        X509_gmtime_adj(X509_getm_notAfter(c), to_s);
        X509_set_pubkey(c, key);
        X509_NAME_add_entry_by_txt(X509_get_subject_name(c), "CN", MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
        X509_NAME_add_entry_by_txt(X509_get_issuer_name(c), "CN", MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char*>(issuer_cn.c_str()), -1,
                                   -1, 0);
        add_ext(c, issuer, NID_basic_constraints, ca ? "critical,CA:TRUE" : "CA:FALSE");
        if (ca) add_ext(c, issuer, NID_key_usage, "critical,keyCertSign,cRLSign");
        std::string san;
        for (const std::string& n : names) {
            if (!san.empty()) san += ',';
            const bool ip = n.find_first_not_of("0123456789.") == std::string::npos ||
                            n.find(':') != std::string::npos;
            san += (ip ? "IP:" : "DNS:") + n;
        }
        if (!san.empty()) add_ext(c, issuer, NID_subject_alt_name, san);
        if (!X509_sign(c, signer, EVP_sha256())) throw std::runtime_error("X509_sign failed");
        return c;
    }
    static std::string drain(BIO* b) {
        char* data = nullptr;
        const long n = BIO_get_mem_data(b, &data);
        std::string s(data, static_cast<std::size_t>(n));
        BIO_free(b);
        return s;
    }
    static std::string pem(X509* c) {
        BIO* b = BIO_new(BIO_s_mem());
        PEM_write_bio_X509(b, c);
        return drain(b);
    }
    static std::string key_pem(EVP_PKEY* k) {
        BIO* b = BIO_new(BIO_s_mem());
        PEM_write_bio_PrivateKey(b, k, nullptr, nullptr, 0, nullptr, nullptr);
        return drain(b);
    }

    EVP_PKEY* key_;
    X509* cert_;
};

// A temporary directory removed (with its files) at the end of the test.
class TempDir {
  public:
    TempDir() {
        char tmpl[] = "/tmp/green_tls_XXXXXX";
        if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    // Writes `text` to `name` in the directory; returns its path.
    std::string write(const std::string& name, const std::string& text) const {
        const std::string p = path_ + "/" + name;
        std::ofstream(p, std::ios::binary) << text;
        return p;
    }
    const std::string& path() const { return path_; }

  private:
    std::string path_;
};

}  // namespace green_test
