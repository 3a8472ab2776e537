// The table behind fd_generation.hpp.
#include "fd_generation.hpp"

namespace green::detail {

FdGenerations g_fd_generations;

}  // namespace green::detail
