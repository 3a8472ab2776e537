// gevent.pool in C++: Group, a set of greenlets joined, killed and mapped together (members
// leave it when they finish), and Pool, a Group with a size limit where spawn() waits while
// the pool is full. map/imap/imap_unordered run a function over a range with that concurrency.
#pragma once

#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <ranges>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "green/clock.hpp"
#include "green/detail/intrusive_list.hpp"
#include "green/greenlet.hpp"
#include "green/semaphore.hpp"
#include "green/wait_queue.hpp"
#include "green/waitable.hpp"

namespace green {

template <class R>
class IMap;

namespace detail {

template <class R>
struct TaskLink;

// Results of one imap, shared by the iterator and the feeder greenlet. The completion links of
// the tasks still running are listed here: they point back at this state, so its end unlinks
// them first (tasks outliving an abandoned imap deliver nothing).
template <class R>
struct MapState {
    struct Outcome {
        std::optional<R> value;
        std::exception_ptr error;
    };
    explicit MapState(bool ord) : ordered(ord) {}
    MapState(const MapState&) = delete;
    MapState& operator=(const MapState&) = delete;
    ~MapState();

    void deliver(std::size_t index, Outcome o) {
        if (ordered) {
            const std::size_t at = index - base;
            if (window.size() <= at) window.resize(at + 1);
            window[at].emplace(std::move(o));
        } else {
            done.push_back(std::move(o));
        }
        wake.notify_one();
    }

    bool ordered;
    std::deque<std::optional<Outcome>> window;  // ordered: results from index `base` on
    std::size_t base = 0;
    std::deque<Outcome> done;  // unordered: completion order
    std::size_t spawned = 0;
    std::size_t taken = 0;
    bool feeding = true;
    bool stopped = false;
    std::exception_ptr feeder_error;
    IntrusiveList<TaskLink<R>> running;
    WaitQueue wake;
};

// Completion link of one task: moves the greenlet's outcome into the MapState.
template <class R>
struct TaskLink {
    TaskLink(MapState<R>* s, std::size_t i, GreenletHandle task)
        : node(&TaskLink::fire, this), state(s), index(i), g(std::move(task)) {}

    static void fire(LinkNode& n, Waitable& source) {
        std::unique_ptr<TaskLink> self(static_cast<TaskLink*>(n.arg));
        auto& core = static_cast<ResultCore<R>&>(source);
        typename MapState<R>::Outcome o;
        if (core.exception())
            o.error = core.exception();
        else if (core.killed())
            o.error = std::make_exception_ptr(GreenletExit());
        else
            o.value = std::move(core.value_);
        self->state->running.remove(*self);
        self->state->deliver(self->index, std::move(o));
    }

    LinkNode node;
    MapState<R>* state;
    std::size_t index;
    GreenletHandle g;
    TaskLink* prev = nullptr;  // MapState::running
    TaskLink* next = nullptr;
    bool linked = false;
};

template <class R>
MapState<R>::~MapState() {
    while (TaskLink<R>* l = running.front()) {
        running.remove(*l);
        core_of(l->g).unlink(l->node);
        delete l;
    }
}

// A Group's hub, for members on other hubs of a HubPool: their completion is posted back here.
// `group` is cleared when the Group dies (on this hub, so posts never see a dangling one).
struct GroupHome;

template <class Range>
using RangeItem = std::ranges::range_value_t<std::remove_cvref_t<Range>>;

}  // namespace detail

// A Group is used from one hub (the members may run on any hub of a HubPool: they leave the
// group on its hub, through its mailbox, when they finish).
class Group {
  public:
    Group() = default;
    Group(const Group&) = delete;
    Group& operator=(const Group&) = delete;
    // Stops tracking the members; they keep running.
    virtual ~Group();

    // Starts f(args...) in a new greenlet that belongs to this group (a Pool first waits for a
    // free slot).
    template <class F, class... Args>
    Greenlet<SpawnResult<F, Args...>> spawn(F&& f, Args&&... args) {
        acquire_slot(Deadline{});
        Greenlet<SpawnResult<F, Args...>> g;
        try {
            g = green::spawn(std::forward<F>(f), std::forward<Args>(args)...);
            insert(g);
        } catch (...) {
            if (!g) release_slot();
            throw;
        }
        return g;
    }

    // Tracks an existing greenlet (a Pool waits for a slot, up to `deadline`: false if none
    // came). A finished greenlet is not added; adding a member again does nothing.
    bool add(const GreenletHandle& g, Deadline deadline = {});
    // Stops tracking `g` (its Pool slot is freed); it keeps running.
    void discard(const GreenletHandle& g) noexcept;
    bool contains(const GreenletHandle& g) const noexcept;
    std::size_t size() const noexcept { return members_.size(); }
    bool empty() const noexcept { return members_.empty(); }
    std::vector<GreenletHandle> greenlets() const;

    // Waits until the group is empty (true) or the deadline (false). With raise_error, the
    // first failure of a member during the wait is rethrown.
    bool join(Deadline deadline = {}, bool raise_error = false);
    // Kills every member (again, for members spawned meanwhile) and with block waits for them.
    void kill(bool block = true, Deadline deadline = {});
    void killone(const GreenletHandle& g, bool block = true, Deadline deadline = {});

    // Runs f(args...) in the group and returns its result; called from a member it runs
    // directly (a member waiting for a slot of its own full Pool would wait forever).
    template <class F, class... Args>
    SpawnResult<F, Args...> apply(F&& f, Args&&... args) {
        if (contains(getcurrent()))
            return std::invoke(std::forward<F>(f), std::forward<Args>(args)...);
        return spawn(std::forward<F>(f), std::forward<Args>(args)...).get();
    }
    template <class F, class... Args>
    Greenlet<SpawnResult<F, Args...>> apply_async(F&& f, Args&&... args) {
        return spawn(std::forward<F>(f), std::forward<Args>(args)...);
    }

    // Results of f(item) for each item, in input order, with the group's concurrency (a task's
    // exception is rethrown). The range is copied (or moved) in.
    template <class F, class Range>
    auto map(F f, Range&& range) {
        using R = SpawnResult<F, detail::RangeItem<Range>>;
        std::size_t expected = 0;
        if constexpr (std::ranges::sized_range<std::remove_cvref_t<Range>>)
            expected = static_cast<std::size_t>(std::ranges::size(range));
        auto it = imap(std::move(f), std::forward<Range>(range));
        if constexpr (std::is_void_v<R>) {
            while (it.next()) {
            }
        } else {
            std::vector<R> out;
            out.reserve(expected);
            while (auto r = it.next()) out.push_back(std::move(*r));
            return out;
        }
    }
    // Lazily: results in input order as they become available.
    template <class F, class Range>
    auto imap(F f, Range&& range) {
        return start_map(std::move(f), std::forward<Range>(range), true);
    }
    // Lazily: results in completion order.
    template <class F, class Range>
    auto imap_unordered(F f, Range&& range) {
        return start_map(std::move(f), std::forward<Range>(range), false);
    }
    // map() in a greenlet of its own (not a member).
    template <class F, class Range>
    auto map_async(F f, Range&& range) {
        return green::spawn([this, f = std::move(f),
                             r = std::decay_t<Range>(std::forward<Range>(range))]() mutable {
            return map(std::move(f), std::move(r));
        });
    }

  protected:
    // Pool's limit. acquire_slot: true when a slot was taken before the deadline.
    virtual bool acquire_slot(Deadline) { return true; }
    virtual void release_slot() noexcept {}

  private:
    // One per member, owned by the group. A member of this hub is found through its own link
    // list (the node below); one of another hub through remote_. No lookup on completion.
    struct Member {
        Member(Group* grp, GreenletHandle h)
            : node(&Group::on_done, this), group(grp), g(std::move(h)) {}
        LinkNode node;  // on a member of this hub
        Group* group;
        GreenletHandle g;
        GreenletHandle::LinkId remote_link = 0;  // on a member of another hub
        Member* prev = nullptr;                  // members_
        Member* next = nullptr;
        bool linked = false;
    };
    friend struct detail::GroupHome;
    static void on_done(LinkNode& node, Waitable& source);
    void member_done(Member& m, const std::exception_ptr& error);
    void remote_done(const void* core, std::exception_ptr error);
    Member* find(const GreenletHandle& g) const noexcept;
    void untrack(Member& m) noexcept;
    void drop(Member& m) noexcept;  // out of the group and freed, its slot released
    void insert(const GreenletHandle& g);

    template <class F, class Range>
    auto start_map(F f, Range&& range, bool ordered);

    detail::IntrusiveList<Member> members_;
    // Members of other hubs, by core.
    std::unordered_map<const void*, Member*> remote_;
    std::shared_ptr<detail::GroupHome> home_;  // made at the first member of another hub
    WaitQueue changed_;
    std::size_t failures_ = 0;
    std::exception_ptr last_failure_;
};

// A Group of at most `size` greenlets: spawn()/add() wait while it is full (gevent.pool.Pool).
class Pool : public Group {
  public:
    explicit Pool(std::size_t size);
    ~Pool() override;

    std::size_t capacity() const noexcept { return size_; }
    // Slots not taken: greenlets that could start now.
    std::size_t free_count() const noexcept { return slots_.counter(); }
    bool full() const noexcept { return free_count() == 0; }
    // Waits until a slot is free (true) or the deadline (false), without taking it.
    bool wait_available(Deadline deadline = {});

  protected:
    bool acquire_slot(Deadline deadline) override { return slots_.acquire(deadline); }
    void release_slot() noexcept override { slots_.release(); }

  private:
    std::size_t size_;
    Semaphore slots_;
};

// The lazy result sequence of imap/imap_unordered: next() or a range-for. A task's exception is
// rethrown at its place. Destroying it early stops the feeding and kills unfinished tasks.
template <class R>
class IMap {
  public:
    IMap(std::shared_ptr<detail::MapState<R>> st, GreenletHandle feeder)
        : st_(std::move(st)), feeder_(std::move(feeder)) {}
    IMap(IMap&&) noexcept = default;
    IMap& operator=(IMap&&) = delete;
    ~IMap() {
        if (!st_) return;
        st_->stopped = true;
        if (feeder_ && !feeder_.ready()) feeder_.kill(false);
        std::vector<GreenletHandle> left;
        for (auto* l = st_->running.front(); l; l = l->next) left.push_back(l->g);
        for (auto& g : left) g.kill(false);
    }

    // The next result; nullopt when all were returned.
    std::optional<R> next() {
        auto& s = *st_;
        for (;;) {
            if (s.ordered) {
                if (!s.window.empty() && s.window.front()) {
                    auto o = std::move(*s.window.front());
                    s.window.pop_front();
                    ++s.base;
                    return take(std::move(o));
                }
            } else if (!s.done.empty()) {
                auto o = std::move(s.done.front());
                s.done.pop_front();
                return take(std::move(o));
            }
            if (!s.feeding && s.taken == s.spawned) {
                if (s.feeder_error) std::rethrow_exception(std::exchange(s.feeder_error, nullptr));
                return std::nullopt;
            }
            s.wake.wait();
        }
    }

    class iterator {
      public:
        using value_type = R;
        using difference_type = std::ptrdiff_t;
        iterator() = default;
        explicit iterator(IMap* m) : m_(m), cur_(m->next()) {}
        R& operator*() { return *cur_; }
        R* operator->() { return &*cur_; }
        iterator& operator++() {
            cur_ = m_->next();
            return *this;
        }
        bool operator==(const iterator& o) const { return !cur_ && !o.cur_; }

      private:
        IMap* m_ = nullptr;
        std::optional<R> cur_;
    };
    iterator begin() { return iterator(this); }
    iterator end() { return iterator(); }

  private:
    std::optional<R> take(typename detail::MapState<R>::Outcome o) {
        ++st_->taken;
        if (o.error) std::rethrow_exception(o.error);
        return std::move(o.value);
    }

    std::shared_ptr<detail::MapState<R>> st_;
    GreenletHandle feeder_;
};

template <class F, class Range>
auto Group::start_map(F f, Range&& range, bool ordered) {
    using Item = detail::RangeItem<Range>;
    using Raw = SpawnResult<F, Item>;
    using R = std::conditional_t<std::is_void_v<Raw>, std::monostate, Raw>;
    auto st = std::make_shared<detail::MapState<R>>(ordered);
    // The feeder spawns one task per item, waiting for Pool slots as it goes. Tasks are plain
    // group members; their completion link carries the result back.
    auto feeder = green::spawn([this, st, f = std::move(f),
                                items = std::decay_t<Range>(std::forward<Range>(range))]() mutable {
        try {
            for (auto&& item : items) {
                if (st->stopped) break;
                GreenletHandle g;
                if constexpr (std::is_void_v<Raw>) {
                    g = spawn(
                        [f](Item x) mutable {
                            f(std::move(x));
                            return std::monostate{};
                        },
                        Item(item));
                } else {
                    g = spawn(f, Item(item));
                }
                auto* link = new detail::TaskLink<R>(st.get(), st->spawned++, g);
                st->running.push_back(*link);
                detail::core_of(g).rawlink(link->node);
            }
        } catch (...) {
            st->feeder_error = std::current_exception();
        }
        st->feeding = false;
        st->wake.notify_one();
    });
    return IMap<R>(std::move(st), std::move(feeder));
}

}  // namespace green
