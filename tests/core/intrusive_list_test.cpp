// The intrusive lists every waiter list is built on: the counted FIFO (with and without a
// `linked` flag in its nodes) and the one-pointer FIFO of observers (greenlets' and events'
// links), checked for order, removal at every position and detaching while adding.
#include <gtest/gtest.h>

#include <vector>

#include "green/detail/intrusive_list.hpp"

namespace {

struct Flagged {
    int v = 0;
    Flagged* prev = nullptr;
    Flagged* next = nullptr;
    bool linked = false;
};
struct Unflagged {  // the shape of FiberLink
    int v = 0;
    Unflagged* prev = nullptr;
    Unflagged* next = nullptr;
};

template <class List, class T>
std::vector<int> values(const List& l) {
    std::vector<int> out;
    for (T* p = l.front(); p; p = p->next) out.push_back(p->v);
    return out;
}

}  // namespace

using green::detail::IntrusiveFifo;
using green::detail::IntrusiveList;

TEST(IntrusiveList, NodesWithoutAFlagAreMembersByTheirLinks) {
    IntrusiveList<Unflagged> l;
    Unflagged a{1}, b{2}, c{3};
    EXPECT_FALSE(l.contains(a));
    l.push_back(a);  // the head: no predecessor, still a member
    EXPECT_TRUE(l.contains(a));
    l.push_back(b);
    l.push_back(c);
    EXPECT_TRUE(l.contains(c));
    l.remove(b);
    EXPECT_FALSE(l.contains(b));
    l.remove(b);  // a second remove is a no-op
    EXPECT_EQ(l.size(), 2u);
    EXPECT_EQ((values<IntrusiveList<Unflagged>, Unflagged>(l)), (std::vector<int>{1, 3}));
    l.remove(a);
    EXPECT_FALSE(l.contains(a));
    EXPECT_TRUE(l.contains(c));  // the new head
    Unflagged* first = l.take_all();
    EXPECT_EQ(first, &c);
    EXPECT_FALSE(l.contains(c));
    EXPECT_TRUE(l.empty());
}

TEST(IntrusiveList, FlaggedNodesKeepTheirFlag) {
    IntrusiveList<Flagged> l;
    Flagged a{1}, b{2};
    l.push_back(a);
    l.push_back(b);
    EXPECT_TRUE(a.linked && b.linked && l.contains(b));
    l.remove(a);
    EXPECT_FALSE(a.linked);
    (void)l.take_all();
    EXPECT_FALSE(b.linked);
}

TEST(IntrusiveFifo, KeepsOrderThroughRemovalsAtEveryPosition) {
    IntrusiveFifo<Flagged> l;
    Flagged n[5];
    for (int i = 0; i < 5; ++i) {
        n[i].v = i;
        l.push_back(n[i]);
    }
    l.remove(n[0]);  // head
    l.remove(n[2]);  // middle
    l.remove(n[4]);  // tail
    l.remove(n[4]);  // not linked any more: no-op
    EXPECT_EQ((values<IntrusiveFifo<Flagged>, Flagged>(l)), (std::vector<int>{1, 3}));
    l.push_back(n[4]);  // appended after the new tail
    l.push_back(n[0]);
    EXPECT_EQ((values<IntrusiveFifo<Flagged>, Flagged>(l)), (std::vector<int>{1, 3, 4, 0}));
    l.remove(n[0]);  // the tail again, then the head, down to empty
    l.remove(n[1]);
    l.remove(n[3]);
    l.remove(n[4]);
    EXPECT_TRUE(l.empty());
    l.push_back(n[2]);
    EXPECT_EQ((values<IntrusiveFifo<Flagged>, Flagged>(l)), (std::vector<int>{2}));
}

TEST(IntrusiveFifo, TakeAllDetachesTheChainSoNewNodesGoToTheList) {
    IntrusiveFifo<Flagged> l;
    Flagged a{1}, b{2}, c{3};
    l.push_back(a);
    l.push_back(b);
    Flagged* chain = l.take_all();
    EXPECT_TRUE(l.empty());
    EXPECT_FALSE(a.linked || b.linked);
    l.push_back(c);  // while the detached chain is walked
    std::vector<int> walked;
    for (Flagged* p = chain; p; p = p->next) walked.push_back(p->v);
    EXPECT_EQ(walked, (std::vector<int>{1, 2}));
    EXPECT_EQ((values<IntrusiveFifo<Flagged>, Flagged>(l)), (std::vector<int>{3}));
}
