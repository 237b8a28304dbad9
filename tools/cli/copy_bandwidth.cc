#include "tools/cli/copy_bandwidth.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

namespace kiln::cli {

double MeasureCopyBandwidthGbs(int threads, int64_t bytes, double seconds) {
  threads = std::max(threads, 1);
  // At least 64 MiB, so the copy streams through memory rather than the caches.
  bytes = std::max<int64_t>(bytes, int64_t{64} << 20);
  std::unique_ptr<char[]> src(new char[bytes]);
  std::unique_ptr<char[]> dst(new char[bytes]);
  std::memset(src.get(), 1, bytes);
  std::memset(dst.get(), 0, bytes);
  auto copy_once = [&] {
    std::vector<std::thread> workers;
    const int64_t part = (bytes + threads - 1) / threads;
    for (int t = 0; t < threads; ++t) {
      const int64_t begin = std::min(bytes, t * part);
      const int64_t size = std::min(bytes, begin + part) - begin;
      workers.emplace_back([&, begin, size] { std::memcpy(dst.get() + begin, src.get() + begin, size); });
    }
    for (std::thread& w : workers) w.join();
  };
  copy_once();  // warm-up
  std::vector<double> rates;
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  do {
    const auto start = std::chrono::steady_clock::now();
    copy_once();
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (s > 0) rates.push_back(2.0 * static_cast<double>(bytes) / s / 1e9);
  } while (std::chrono::steady_clock::now() < end || rates.size() < 3);
  std::sort(rates.begin(), rates.end());
  return rates[rates.size() / 2];
}

}  // namespace kiln::cli
