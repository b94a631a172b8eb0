// workflow::removeTree: what the screening and the phantom writer rely on when they clear a folder.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "workflow/RemoveTree.h"

namespace fs = std::filesystem;

namespace {
fs::path freshDir(const std::string& name) {
  const auto d = fs::temp_directory_path() / ("medseek-removetree-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}
void touch(const fs::path& p, const std::string& text = "x") { std::ofstream(p) << text; }
}  // namespace

TEST(RemoveTree, RemovesANestedTreeAndLeavesWhatItsLinksPointAt) {
  const auto root = freshDir("nested");
  const auto keep = freshDir("keep");
  touch(keep / "precious.txt", "do not delete");
  const auto tree = root / "out";
  fs::create_directories(tree / "studies" / "a" / "report");
  fs::create_directories(tree / "empty");
  touch(tree / "worklist.json");
  touch(tree / "studies" / "a" / "result.json");
  touch(tree / "studies" / "a" / "report" / "report.pdf");
  fs::create_directory_symlink(keep, tree / "studies" / "link-to-keep");
  fs::create_symlink(keep / "precious.txt", tree / "file-link");
  std::error_code ec;
  workflow::removeTree(tree, ec);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_FALSE(fs::exists(fs::symlink_status(tree)));
  EXPECT_TRUE(fs::exists(root));
  EXPECT_TRUE(fs::exists(keep / "precious.txt"));
  fs::remove_all(root);
  fs::remove_all(keep);
}

TEST(RemoveTree, AMissingPathIsNoErrorAndASingleFileIsRemoved) {
  const auto root = freshDir("single");
  std::error_code ec;
  workflow::removeTree(root / "does-not-exist", ec);
  EXPECT_FALSE(ec) << ec.message();
  touch(root / "one.tmp");
  EXPECT_NO_THROW(workflow::removeTree(root / "one.tmp"));
  EXPECT_FALSE(fs::exists(root / "one.tmp"));
  fs::remove_all(root);
}

TEST(RemoveTree, AnErrorNamesThePath) {
  // A path below a regular file cannot be inspected: ENOTDIR, reported with the path.
  const auto root = freshDir("error");
  touch(root / "file");
  const auto bad = root / "file" / "below";
  std::error_code ec;
  workflow::removeTree(bad, ec);
  EXPECT_TRUE(ec);
  try {
    workflow::removeTree(bad);
    ADD_FAILURE() << "no exception";
  } catch (const fs::filesystem_error& e) {
    EXPECT_NE(std::string(e.what()).find("below"), std::string::npos) << e.what();
  }
  fs::remove_all(root);
}
