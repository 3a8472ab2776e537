// Per-descriptor tables without a lock: pages of atomic words allocated on first write and never
// freed, so a reader needs no lock and a missing page reads as zeros. Used by the runtime-owned fd
// bitmap (owned_fds.cpp) and the per-fd generations (fd_generation.cpp).
#pragma once

#include <atomic>
#include <cstdlib>

namespace green::detail {

template <class Word, unsigned kPageBits, unsigned kPages>
class LazyPages {
  public:
    static constexpr unsigned kWordsPerPage = 1u << kPageBits;
    static constexpr unsigned kWords = kPages << kPageBits;

    // The word at `index`; nullptr when `index` is out of range, or its page does not exist and
    // `create` is false (or its allocation failed).
    std::atomic<Word>* at(unsigned index, bool create) noexcept {
        Page* p = page(index, create);
        return p ? &p->words[index & (kWordsPerPage - 1)] : nullptr;
    }
    // Whether the page holding `index` exists (a scan skips missing ones).
    bool page_exists(unsigned index) const noexcept {
        return index < kWords && pages_[index >> kPageBits].load(std::memory_order_acquire);
    }

  private:
    struct Page {
        std::atomic<Word> words[kWordsPerPage];
    };

    Page* page(unsigned index, bool create) noexcept {
        const unsigned i = index >> kPageBits;
        if (i >= kPages) return nullptr;
        Page* p = pages_[i].load(std::memory_order_acquire);
        if (p || !create) return p;
        auto* fresh = static_cast<Page*>(std::calloc(1, sizeof(Page)));
        if (!fresh) return nullptr;
        if (pages_[i].compare_exchange_strong(p, fresh, std::memory_order_acq_rel)) return fresh;
        std::free(fresh);
        return p;
    }

    std::atomic<Page*> pages_[kPages] = {};
};

}  // namespace green::detail
