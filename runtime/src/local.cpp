// Fiber-local storage for green::local<T>, kept per thread and keyed by fiber. A greenlet's
// values are destroyed by a completion link when it finishes, so a later fiber at the same
// address never sees them; the main fiber's live until the thread exits.
#include "green/local.hpp"

#include <atomic>
#include <memory>
#include <stdexcept>
#include <unordered_map>
#include <vector>

#include "green/greenlet.hpp"
#include "scheduler.hpp"

namespace green::detail {

namespace {

std::atomic<std::uint64_t> g_next_key{1};

struct Slot {
    void* value;
    LocalDestroy destroy;
};

struct FiberValues;

struct Registry {
    ~Registry();
    std::unordered_map<const Fiber*, std::unique_ptr<FiberValues>> fibers;
};

struct FiberValues {
    FiberValues(Registry& r, const Fiber* f)
        : node(&FiberValues::on_finish, this), reg(r), fiber(f) {}

    // Destroys every value; values destroyed may touch other locals, so loop until empty.
    void clear() noexcept {
        while (!values.empty()) {
            auto it = values.begin();
            Slot s = it->second;
            values.erase(it);
            s.destroy(s.value);
        }
    }
    static void on_finish(LinkNode& n, Waitable&) {
        auto* self = static_cast<FiberValues*>(n.arg);
        self->finished = true;
        self->clear();
        self->reg.fibers.erase(self->fiber);  // frees self
    }

    LinkNode node;
    Registry& reg;
    const Fiber* fiber;
    GreenletCore* core = nullptr;  // linked to it while the greenlet runs
    bool finished = false;
    std::unordered_map<std::uint64_t, Slot> values;
};

Registry::~Registry() {
    // Detached first: a value's destructor may touch fiber-local storage again.
    auto all = std::move(fibers);
    fibers.clear();
    for (auto& [f, v] : all) {
        if (v->core) v->core->unlink(v->node);
        v->clear();
    }
}

thread_local std::unique_ptr<Registry> t_registry;

Registry& registry() {
    if (!t_registry) t_registry = std::make_unique<Registry>();
    return *t_registry;
}

// The calling fiber, checked to be one whose end we can observe.
const Fiber* this_fiber(GreenletCore** core_out) {
    Hub& hub = Hub::get();
    Fiber* f = hub.current();
    if (f == &hub.main_fiber()) {
        *core_out = nullptr;
        return f;
    }
    auto* core = dynamic_cast<GreenletCore*>(f);
    if (!core)
        throw std::logic_error(
            "green::local: only greenlets and the main fiber have fiber-local storage");
    if (core->finished())
        throw std::logic_error("green::local: used by a greenlet that already finished");
    *core_out = core;
    return f;
}

}  // namespace

std::uint64_t new_local_key() noexcept {
    return g_next_key.fetch_add(1, std::memory_order_relaxed);
}

void* local_find(std::uint64_t key) {
    GreenletCore* core;
    const Fiber* f = this_fiber(&core);
    if (!t_registry) return nullptr;
    auto it = t_registry->fibers.find(f);
    if (it == t_registry->fibers.end()) return nullptr;
    auto v = it->second->values.find(key);
    return v == it->second->values.end() ? nullptr : v->second.value;
}

void* local_store(std::uint64_t key, void* value, LocalDestroy destroy) {
    GreenletCore* core;
    const Fiber* f = this_fiber(&core);
    Registry& reg = registry();
    auto& entry = reg.fibers[f];
    if (!entry) {
        entry = std::make_unique<FiberValues>(reg, f);
        if (core) {
            entry->core = core;
            core->rawlink(entry->node);
        }
    }
    auto [it, inserted] = entry->values.emplace(key, Slot{value, destroy});
    if (!inserted) {
        Slot old = it->second;
        it->second = Slot{value, destroy};
        old.destroy(old.value);
    }
    return value;
}

void local_erase(std::uint64_t key) noexcept {
    Hub* hub = Hub::peek();
    if (!hub || !t_registry) return;
    auto it = t_registry->fibers.find(hub->current());
    if (it == t_registry->fibers.end()) return;
    auto v = it->second->values.find(key);
    if (v == it->second->values.end()) return;
    Slot s = v->second;
    it->second->values.erase(v);
    s.destroy(s.value);
}

void local_forget(std::uint64_t key) noexcept {
    if (!t_registry) return;
    std::vector<Slot> gone;  // destroyed after the walk: destructors may touch the registry
    for (auto& [f, entry] : t_registry->fibers) {
        auto v = entry->values.find(key);
        if (v == entry->values.end()) continue;
        gone.push_back(v->second);
        entry->values.erase(v);
    }
    for (auto& s : gone) s.destroy(s.value);
}

}  // namespace green::detail
