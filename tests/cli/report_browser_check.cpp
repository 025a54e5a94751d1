// Opens a rendered report.html in headless Chromium and checks that the browser's DOM holds
// the five plots and both legends, and that nothing was logged as a script error. Exits 77
// (CTest: Skipped) when no Chromium is installed: Debian's `chromium` package provides it.
//
// Usage: ar1_cli_browser_check <work dir>   (writes report.html, dom.html, report.png there)
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "tests/cli/sample_report.h"
#include "tools/cli/report.h"

namespace fs = std::filesystem;

namespace {

fs::path find_browser() {
  const char* path = std::getenv("PATH");
  if (!path) return {};
  for (const char* name : {"chromium", "chromium-browser", "google-chrome", "chrome"}) {
    std::stringstream dirs(path);
    std::string dir;
    while (std::getline(dirs, dir, ':')) {
      fs::path candidate = fs::path(dir) / name;
      std::error_code ec;
      if (!dir.empty() && fs::is_regular_file(candidate, ec)) return candidate;
    }
  }
  return {};
}

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

std::size_t count(const std::string& s, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t p = s.find(needle); p != std::string::npos; p = s.find(needle, p + 1)) ++n;
  return n;
}

int run(const std::string& command) {
  int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

int main(int argc, char** argv) {
  fs::path browser = find_browser();
  if (browser.empty()) {
    std::cout << "chromium is not installed (apt-get install chromium); skipping\n";
    return 77;
  }
  fs::path dir = argc > 1 ? fs::path(argv[1]) : fs::temp_directory_path() / "ar1_browser_check";
  fs::create_directories(dir);
  dir = fs::absolute(dir);
  const fs::path report = dir / "report.html";
  ar1::cli::write_report(report, ar1::cli::testing::sample_report(21, /*baseline=*/true, true));

  // Root in a container needs --no-sandbox; a private profile keeps runs independent.
  const std::string common = quote(browser.string()) +
                             " --headless --no-sandbox --disable-gpu --no-first-run"
                             " --user-data-dir=" + quote((dir / "profile").string()) +
                             " --enable-logging=stderr --v=0";
  const fs::path dom = dir / "dom.html", log = dir / "chromium.log", shot = dir / "report.png";
  int rc = run(common + " --dump-dom " + quote("file://" + report.string()) + " > " +
               quote(dom.string()) + " 2> " + quote(log.string()));
  if (rc != 0) {
    std::cerr << "chromium --dump-dom exited with " << rc << "; see " << log << "\n";
    return 1;
  }
  const std::string html = read(dom), messages = read(log);
  bool ok = true;
  auto expect = [&](bool cond, const std::string& what) {
    if (!cond) std::cerr << "FAILED: " << what << "\n";
    ok = ok && cond;
  };
  expect(count(html, "<svg") == 5, "five <svg> plots in the DOM (found " +
                                       std::to_string(count(html, "<svg")) + ")");
  expect(html.find(">AR1</text>") != std::string::npos, "legend names AR1");
  expect(html.find(">Naive</text>") != std::string::npos, "legend names Naive");
  expect(html.find("linearGradient") != std::string::npos, "heat-map colour scale");
  expect(messages.find("Uncaught") == std::string::npos, "no script errors in the log");

  rc = run(common + " --window-size=1100,3200 --screenshot=" + quote(shot.string()) + " " +
           quote("file://" + report.string()) + " >> " + quote(log.string()) + " 2>&1");
  std::error_code ec;
  expect(rc == 0 && fs::file_size(shot, ec) > 10000, "a screenshot at " + shot.string());
  std::cout << (ok ? "report renders in " : "report check failed in ") << browser.string()
            << "; screenshot " << shot << "\n";
  return ok ? 0 : 1;
}
