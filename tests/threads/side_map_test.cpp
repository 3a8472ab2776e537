// The side table's private hash map (hooks/side_map.hpp) against std::unordered_map: random
// inserts, lookups and erasures over a small key space, so probe runs collide, wrap and shift.
#include <cstdint>
#include <random>
#include <unordered_map>

#include <gtest/gtest.h>

#include "side_map.hpp"

namespace {

TEST(SideMap, AgreesWithUnorderedMapUnderRandomUse) {
    green::hooks::SideMap<std::uint64_t> map;
    std::unordered_map<const void*, std::uint64_t> model;
    std::mt19937_64 rng(12345);
    for (int step = 0; step < 200000; ++step) {
        // Addresses 8 bytes apart, as pthread objects in an array would be.
        const auto* key = reinterpret_cast<const void*>(0x10000 + 8 * (rng() % 3000));
        switch (rng() % 3) {
            case 0: {
                std::uint64_t& v = map.get(key);
                auto [it, fresh] = model.try_emplace(key, 0);
                ASSERT_EQ(v, it->second) << "step " << step;
                v = it->second = rng();
                break;
            }
            case 1:
                map.erase(key);
                model.erase(key);
                break;
            default: {
                const std::uint64_t* v = map.find(key);
                auto it = model.find(key);
                ASSERT_EQ(v != nullptr, it != model.end()) << "step " << step;
                if (v) {
                    ASSERT_EQ(*v, it->second);
                }
            }
        }
        ASSERT_EQ(map.size(), model.size());
    }
    for (const auto& [key, value] : model) {
        const std::uint64_t* v = map.find(key);
        ASSERT_NE(v, nullptr);
        EXPECT_EQ(*v, value);
    }
}

TEST(SideMap, ValuesKeepTheirAddressWhileTheMapGrows) {
    green::hooks::SideMap<int> map;
    int& first = map.get(&map);
    first = 7;
    static char keys[10000];
    for (char& k : keys) map.get(&k) = 1;
    EXPECT_EQ(map.find(&map), &first);
    EXPECT_EQ(first, 7);
}

}  // namespace
