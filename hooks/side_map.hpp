// The side table's index: user object address -> value, an open-addressing hash (linear
// probing, backward-shift deletion) whose buckets and values live in private mmap memory
// (private_arena.hpp), never the program's malloc. Values keep their address while present.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>

#include "private_arena.hpp"

namespace green::hooks {

template <class V>
class SideMap {
  public:
    SideMap() = default;
    SideMap(const SideMap&) = delete;
    SideMap& operator=(const SideMap&) = delete;
    ~SideMap() {
        for (std::size_t i = 0; i < cap_; ++i)
            if (slots_[i].key) values_.destroy(slots_[i].value);
        release_private_pages(slots_, cap_ * sizeof(Slot));
    }

    bool empty() const noexcept { return size_ == 0; }
    std::size_t size() const noexcept { return size_; }

    V* find(const void* key) const noexcept {
        if (size_ == 0) return nullptr;
        for (std::size_t i = home(key);; i = (i + 1) & (cap_ - 1)) {
            if (slots_[i].key == key) return slots_[i].value;
            if (!slots_[i].key) return nullptr;
        }
    }

    // The value for `key`, default-constructed if absent. Throws std::bad_alloc.
    V& get(const void* key) {
        if (V* v = find(key)) return *v;
        if ((size_ + 1) * 4 > cap_ * 3) grow();
        V* v = values_.make();
        std::size_t i = home(key);
        while (slots_[i].key) i = (i + 1) & (cap_ - 1);
        slots_[i] = {key, v};
        ++size_;
        return *v;
    }

    void erase(const void* key) noexcept {
        if (size_ == 0) return;
        std::size_t i = home(key);
        while (slots_[i].key != key) {
            if (!slots_[i].key) return;
            i = (i + 1) & (cap_ - 1);
        }
        values_.destroy(slots_[i].value);
        --size_;
        // Backward shift: move later members of the probe run into the hole, so lookups never
        // need tombstones.
        for (std::size_t j = (i + 1) & (cap_ - 1); slots_[j].key; j = (j + 1) & (cap_ - 1)) {
            const std::size_t h = home(slots_[j].key);
            const bool movable = i <= j ? (h <= i || h > j) : (h <= i && h > j);
            if (movable) {
                slots_[i] = slots_[j];
                i = j;
            }
        }
        slots_[i] = {};
    }

    // Calls f(key, value&) for every member; f must not insert or erase.
    template <class F>
    void for_each(F&& f) {
        for (std::size_t i = 0; i < cap_ && size_ > 0; ++i)
            if (slots_[i].key) f(slots_[i].key, *slots_[i].value);
    }

  private:
    struct Slot {
        const void* key = nullptr;
        V* value = nullptr;
    };

    std::size_t home(const void* key) const noexcept {
        const auto k = reinterpret_cast<std::uintptr_t>(key);
        return static_cast<std::size_t>((k >> 3) * 0x9E3779B97F4A7C15ULL >> 20) & (cap_ - 1);
    }

    void grow() {
        const std::size_t old_cap = cap_;
        Slot* old = slots_;
        const std::size_t cap = old_cap ? old_cap * 2 : 64;
        auto* fresh = static_cast<Slot*>(private_pages(cap * sizeof(Slot)));
        if (!fresh) throw std::bad_alloc();
        slots_ = fresh;  // zeroed pages: every slot empty
        cap_ = cap;
        for (std::size_t i = 0; i < old_cap; ++i) {
            if (!old[i].key) continue;
            std::size_t j = home(old[i].key);
            while (slots_[j].key) j = (j + 1) & (cap_ - 1);
            slots_[j] = old[i];
        }
        release_private_pages(old, old_cap * sizeof(Slot));
    }

    Slot* slots_ = nullptr;
    std::size_t cap_ = 0;
    std::size_t size_ = 0;
    PrivateSlab<V> values_;
};

}  // namespace green::hooks
