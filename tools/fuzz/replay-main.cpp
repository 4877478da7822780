//===- replay-main.cpp - Runs a fuzz target on saved inputs ----*- C++ -*-===//
//
// The main() of the fuzz targets in builds without libFuzzer: runs
// LLVMFuzzerTestOneInput on every file named on the command line (files,
// or directories of them), so that the committed corpus and every input
// that once crashed a target stay regression tests (test/Fuzz/replay.test).
//
//===----------------------------------------------------------------------===//

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int runOne(const std::filesystem::path &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    fprintf(stderr, "cannot read %s\n", path.c_str());
    return 1;
  }
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                          std::istreambuf_iterator<char>());
  // A copy of exactly the input's size, as libFuzzer passes it (reads past
  // the end show under the sanitizers).
  std::vector<uint8_t> data(bytes.begin(), bytes.end());
  LLVMFuzzerTestOneInput(data.data(), data.size());
  return 0;
}

int main(int argc, char **argv) {
  int runs = 0, errors = 0;
  for (int i = 1; i < argc; ++i) {
    std::filesystem::path p(argv[i]);
    std::vector<std::filesystem::path> files;
    if (std::filesystem::is_directory(p)) {
      for (const auto &e : std::filesystem::directory_iterator(p))
        if (e.is_regular_file())
          files.push_back(e.path());
    } else {
      files.push_back(p);
    }
    std::sort(files.begin(), files.end());
    for (const auto &f : files) {
      errors += runOne(f);
      ++runs;
    }
  }
  printf("replayed %d inputs\n", runs);
  return errors || runs == 0 ? 1 : 0;
}
