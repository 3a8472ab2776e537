// The seed's threading.local lesson with green::local: the main fiber and two greenlets each
// set `val` and read back their own value, never another's. The seed prints each value's
// id(); here each line also says whether that fiber's storage is distinct from the others'.
#include <cstdio>
#include <green/green.hpp>
#include <set>
#include <string>

int main() {
    green::local<std::string> val;
    std::set<const void*> addresses;  // one per fiber if the values are really separate
    *val = "main-Thread";
    addresses.insert(&*val);

    auto process_student = [&](const std::string& thread_name) {
        const bool own = addresses.insert(&*val).second;
        std::printf("%s (in%s)%s\n", val->c_str(), thread_name.c_str(),
                    own ? "内存地址独立" : "内存地址重复");
    };
    auto process_thread = [&](std::string name, std::string thread_name) {
        *val = name;
        green::sleep(
            std::chrono::milliseconds(0));  // let the other greenlet set its value in between
        process_student(thread_name);
    };
    auto t1 = green::spawn(process_thread, std::string("one"), std::string("Thread-A"));
    auto t2 = green::spawn(process_thread, std::string("two"), std::string("Thread-B"));
    green::joinall({t1, t2});
    std::printf("主线程的值为%s\n", val->c_str());
}
