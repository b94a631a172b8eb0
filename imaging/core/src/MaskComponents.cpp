#include "imaging/MaskComponents.h"

#include <cstring>
#include <numeric>

namespace imaging {
namespace {
std::uint64_t load8(const std::uint8_t* p) {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
bool hasZeroByte(std::uint64_t v) {
  return ((v - 0x0101010101010101ULL) & ~v & 0x8080808080808080ULL) != 0;
}
}  // namespace

void labelMaskComponents(const std::uint8_t* mask, const std::array<int, 3>& dims, MaskComponents& out) {
  const int nx = dims[0], ny = dims[1];
  const std::size_t rows = static_cast<std::size_t>(ny) * static_cast<std::size_t>(dims[2]);
  out.runs.clear();
  out.voxels.clear();
  // Per thread, reused: the first run of each row (row r's runs are runs[rowStart[r], rowStart[r + 1])) and
  // the union-find forest over the runs.
  thread_local std::vector<std::size_t> rowStart;
  thread_local std::vector<std::size_t> parent;
  rowStart.resize(rows + 1);
  for (std::size_t row = 0; row < rows; ++row) {
    rowStart[row] = out.runs.size();
    const std::uint8_t* m = mask + row * static_cast<std::size_t>(nx);
    const int j = static_cast<int>(row % static_cast<std::size_t>(ny)), k = static_cast<int>(row / static_cast<std::size_t>(ny));
    for (int i = 0; i < nx;) {
      while (i + 8 <= nx && load8(m + i) == 0) i += 8;  // eight voxels out at a time
      while (i < nx && !m[i]) ++i;
      if (i == nx) break;
      const int a = i;
      while (i + 8 <= nx && !hasZeroByte(load8(m + i))) i += 8;  // eight voxels in at a time
      while (i < nx && m[i]) ++i;
      out.runs.push_back({a, i - 1, j, k, -1});
    }
  }
  rowStart[rows] = out.runs.size();
  auto& runs = out.runs;
  // Union-find; a set's root is its smallest run index, i.e. its first run in raster order.
  parent.resize(runs.size());
  std::iota(parent.begin(), parent.end(), std::size_t{0});
  auto find = [](std::size_t x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  };
  auto unite = [&](std::size_t x, std::size_t y) {
    x = find(x);
    y = find(y);
    if (x < y) parent[y] = x;
    else if (y < x) parent[x] = y;
  };
  // Runs of neighbouring rows (j - 1 or k - 1) that share an i are 6-connected.
  auto link = [&](std::size_t rowA, std::size_t rowB) {
    std::size_t p = rowStart[rowA], q = rowStart[rowB];
    const std::size_t pe = rowStart[rowA + 1], qe = rowStart[rowB + 1];
    while (p < pe && q < qe) {
      if (runs[p].end < runs[q].begin) {
        ++p;
      } else if (runs[q].end < runs[p].begin) {
        ++q;
      } else {
        unite(p, q);
        if (runs[p].end < runs[q].end) ++p;
        else ++q;
      }
    }
  };
  const auto sy = static_cast<std::size_t>(ny);
  for (std::size_t row = 0; row < rows; ++row) {
    if (row % sy > 0) link(row, row - 1);
    if (row >= sy) link(row, row - sy);
  }
  // A run that is its own root opens the next component.
  for (std::size_t r = 0; r < runs.size(); ++r) {
    const std::size_t root = find(r);
    if (root == r) {
      runs[r].component = static_cast<int>(out.voxels.size());
      out.voxels.push_back(0);
    } else {
      runs[r].component = runs[root].component;
    }
    out.voxels[static_cast<std::size_t>(runs[r].component)] += static_cast<std::size_t>(runs[r].end - runs[r].begin + 1);
  }
}

}  // namespace imaging
