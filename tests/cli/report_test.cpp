// report.html (tools/cli/report.h): structure, escaping, NaN cells, size of a 391-experience
// report and the atomic write.
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "tests/cli/sample_report.h"
#include "tools/cli/report.h"

namespace fs = std::filesystem;
using namespace ar1::cli;
using ar1::cli::testing::sample_report;

namespace {

std::size_t count(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t p = haystack.find(needle); p != std::string::npos;
       p = haystack.find(needle, p + needle.size()))
    ++n;
  return n;
}

// Empty when every opened tag is closed in order; otherwise what went wrong. Understands
// <!DOCTYPE>, self-closing tags (<rect/>) and HTML void elements; attribute values must not
// hold '>' (the report escapes it).
std::string tag_balance(const std::string& html) {
  static const std::vector<std::string> kVoid = {"meta", "br", "hr", "img", "input", "link"};
  std::vector<std::string> open;
  for (std::size_t p = html.find('<'); p != std::string::npos; p = html.find('<', p + 1)) {
    std::size_t end = html.find('>', p);
    if (end == std::string::npos) return "unterminated tag at " + std::to_string(p);
    if (html[p + 1] == '!') continue;
    bool closing = html[p + 1] == '/';
    std::size_t name_start = p + (closing ? 2 : 1), q = name_start;
    while (q < end && (std::isalnum(static_cast<unsigned char>(html[q])) || html[q] == '-')) ++q;
    std::string name = html.substr(name_start, q - name_start);
    if (name.empty()) return "'<' that starts no tag at " + std::to_string(p);
    if (closing) {
      if (open.empty() || open.back() != name)
        return "</" + name + "> closes <" + (open.empty() ? std::string("nothing") : open.back()) +
               "> at " + std::to_string(p);
      open.pop_back();
    } else if (html[end - 1] != '/' &&
               std::find(kVoid.begin(), kVoid.end(), name) == kVoid.end()) {
      open.push_back(name);
    }
  }
  if (!open.empty()) return "<" + open.back() + "> never closed";
  return {};
}

// The <svg ...>...</svg> blocks in order.
std::vector<std::string> svgs(const std::string& html) {
  std::vector<std::string> out;
  for (std::size_t p = html.find("<svg"); p != std::string::npos; p = html.find("<svg", p + 1))
    out.push_back(html.substr(p, html.find("</svg>", p) + 6 - p));
  return out;
}

std::vector<std::uint8_t> unbase64(const std::string& s) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
  };
  std::vector<std::uint8_t> out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    int v = val(c);
    if (v < 0) break;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>(acc >> bits));
    }
  }
  return out;
}

}  // namespace

TEST_CASE("report structure: one svg per plot, legends, no URLs, balanced tags") {
  const std::string html = render_report(sample_report(8, /*baseline=*/true));
  CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(tag_balance(html) == "");
  // Plots: stream accuracy, accuracy matrix, loss, time, memory.
  auto plots = svgs(html);
  REQUIRE(plots.size() == 5);
  CHECK(plots[0].find("Stream accuracy") != std::string::npos);
  CHECK(plots[1].find("Accuracy matrix of AR1") != std::string::npos);
  CHECK(plots[2].find("loss") != std::string::npos);
  CHECK(plots[3].find("Wall time") != std::string::npos);
  CHECK(plots[4].find("Peak memory") != std::string::npos);
  // Every per-experience plot names both runs in its legend and has axis labels.
  for (std::size_t i : {0u, 2u, 3u, 4u}) {
    CAPTURE(i);
    CHECK(plots[i].find("<g class=\"legend\">") != std::string::npos);
    CHECK(plots[i].find(">AR1</text>") != std::string::npos);
    CHECK(plots[i].find(">Naive</text>") != std::string::npos);
    CHECK(plots[i].find("training experience</text>") != std::string::npos);
  }
  // Time uses bars while few; the accuracy plot has one line per run.
  CHECK(count(plots[3], "<rect") >= 16);
  CHECK(count(plots[0], "<path") == 2);
  // The heat map has a colour scale and, at 8 x 8, a value in every cell.
  CHECK(plots[1].find("linearGradient") != std::string::npos);
  CHECK(count(plots[1], "<title>after experience") == 64);
  // Self-contained: no links, scripts or external resources.
  CHECK(html.find("http") == std::string::npos);
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("<link") == std::string::npos);
  CHECK(html.find("@import") == std::string::npos);
  // Summary and config.
  CHECK(html.find("<table class=\"summary\">") != std::string::npos);
  CHECK(html.find("<th>inc-lr</th><td>5e-05</td>") != std::string::npos);
}

TEST_CASE("report escapes every text it shows") {
  RunReport r = sample_report(3, true);
  r.title = "<script>alert('x')</script> & co";
  r.runs[0].name = "AR1 <\"fast\">";
  r.runs[1].name = "Naive & friends";
  r.config.push_back({"out", "runs/<a> & \"b\""});
  const std::string html = render_report(r);
  CHECK(tag_balance(html) == "");
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co") != std::string::npos);
  CHECK(html.find("AR1 &lt;&quot;fast&quot;&gt;") != std::string::npos);
  CHECK(html.find("Naive &amp; friends") != std::string::npos);
  CHECK(html.find("runs/&lt;a&gt; &amp; &quot;b&quot;") != std::string::npos);
  CHECK(html.find("Naive & friends") == std::string::npos);
  CHECK(html_escape("a<b>&\"'") == "a&lt;b&gt;&amp;&quot;&#39;");
}

TEST_CASE("report handles NaN cells and missing measurements") {
  RunReport r = sample_report(6, false, /*triangular=*/true);
  r.runs[0].experiences[2].stream_accuracy = kNotEvaluated;  // a gap in the line
  r.runs[0].experiences[4].peak_mib = kNotEvaluated;
  for (auto& e : r.runs[0].experiences) e.loss = kNotEvaluated;  // never measured
  r.runs[0].accuracy[5].resize(3);                                // a short row
  const std::string html = render_report(r);
  CHECK(tag_balance(html) == "");
  // No "nan" or "inf" leaks into numbers, coordinates or labels.
  std::string lower = html;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  CHECK(lower.find("nan") == std::string::npos);
  CHECK(lower.find("inf") == std::string::npos);
  auto plots = svgs(html);
  REQUIRE(plots.size() == 5);
  // Upper triangle (15 cells) plus the short row's 3 missing cells.
  CHECK(count(plots[1], ": not evaluated</title>") == 15 + 3);
  CHECK(plots[1].find(">not evaluated</text>") != std::string::npos);  // scale legend
  // The gap splits the accuracy line into two pieces, the middle point is missing.
  std::size_t d = plots[0].find(" d=\"");
  REQUIRE(d != std::string::npos);
  std::string path = plots[0].substr(d, plots[0].find('"', d + 4) - d);
  CHECK(count(path, "M") == 2);
  CHECK(plots[2].find("not measured") != std::string::npos);
}

TEST_CASE("report writes values in small matrices and only colours larger ones") {
  auto cell_texts = [](const std::string& heat) {
    return count(heat, "font-size=");
  };
  RunReport small = sample_report(30, false);
  auto plots = svgs(render_report(small));
  REQUIRE(plots.size() == 5);
  CHECK(cell_texts(plots[1]) == 900);

  RunReport mid = sample_report(31, false);
  plots = svgs(render_report(mid));
  REQUIRE(plots.size() == 5);
  CHECK(cell_texts(plots[1]) == 0);
  CHECK(count(plots[1], "<title>after experience") == 31 * 31);  // still vector, tooltips

  // Above kMaxVectorCells: one PNG with a pixel per cell.
  RunReport big = sample_report(60, false);
  plots = svgs(render_report(big));
  REQUIRE(plots.size() == 5);
  CHECK(count(plots[1], "<title>after experience") == 0);
  std::size_t p = plots[1].find("data:image/png;base64,");
  REQUIRE(p != std::string::npos);
  p += std::string("data:image/png;base64,").size();
  auto png = unbase64(plots[1].substr(p, plots[1].find('"', p) - p));
  REQUIRE(png.size() > 33);
  CHECK(png[0] == 0x89);
  CHECK(std::string(png.begin() + 1, png.begin() + 4) == "PNG");
  CHECK(std::string(png.begin() + 12, png.begin() + 16) == "IHDR");
  auto be32 = [&](std::size_t at) {
    return (std::uint32_t(png[at]) << 24) | (std::uint32_t(png[at + 1]) << 16) |
           (std::uint32_t(png[at + 2]) << 8) | std::uint32_t(png[at + 3]);
  };
  CHECK(be32(16) == 60);  // width: test experiences
  CHECK(be32(20) == 60);  // height: training experiences
}

TEST_CASE("report of 391 experiences with a baseline stays small") {
  RunReport r = sample_report(391, /*baseline=*/true, /*triangular=*/true);
  const std::string html = render_report(r);
  MESSAGE("391-experience report: " << html.size() << " bytes");
  CHECK(html.size() < 3u * 1024 * 1024);
  CHECK(tag_balance(html) == "");
  CHECK(svgs(html).size() == 5);
  CHECK(html.find("data:image/png;base64,") != std::string::npos);
  CHECK(html.find("http") == std::string::npos);
}

TEST_CASE("report without runs or matrix still renders") {
  RunReport empty;
  std::string html = render_report(empty);
  CHECK(tag_balance(html) == "");
  CHECK(svgs(html).empty());
  RunReport no_matrix = sample_report(4, false);
  no_matrix.runs[0].accuracy.clear();
  html = render_report(no_matrix);
  CHECK(tag_balance(html) == "");
  CHECK(svgs(html).size() == 4);
  CHECK(html.find("No per-experience evaluation was recorded") != std::string::npos);
}

TEST_CASE("report write goes through a temporary file and a rename") {
  static int n = 0;
  fs::path dir = fs::temp_directory_path() /
                 ("ar1_cli_report_" + std::to_string(::getpid()) + "_" + std::to_string(n++));
  fs::create_directories(dir);
  fs::path file = dir / "report.html";
  {
    std::ofstream(file) << "old";
  }
  RunReport r = sample_report(5, true);
  write_report(file, r);
  std::ifstream in(file);
  std::stringstream buf;
  buf << in.rdbuf();
  CHECK(buf.str() == render_report(r));
  // Only the report is left in the directory.
  std::size_t entries = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    CAPTURE(e.path().string());
    CHECK(e.path().filename() == "report.html");
    ++entries;
  }
  CHECK(entries == 1);
  // A directory that does not exist: a clear error and nothing written.
  fs::path missing = dir / "no" / "report.html";
  std::string msg;
  try {
    write_report(missing, r);
  } catch (const ar1::Error& e) {
    msg = e.what();
  }
  CHECK(msg.rfind("[report] cannot create ", 0) == 0);
  CHECK_FALSE(fs::exists(dir / "no"));
  fs::remove_all(dir);
}

TEST_CASE("report warns of an evaluation that blew up without a nan, naming the experience") {
  StrategyRun run{"AR1", {}, {}, {}, {}};
  for (const auto& [acc, loss] : {std::pair{0.62, 1.1}, std::pair{0.10, 312.5}, std::pair{0.55, 1.3},
                                  std::pair{0.10, 2.3}}) {
    ExperienceStats e;
    e.stream_accuracy = acc;
    e.loss = loss;
    run.experiences.push_back(e);
  }
  const std::vector<std::string> w = blowup_warnings(run, 10);
  REQUIRE(w.size() == 1);  // experience 3 is at chance, but with a loss that is not a blow-up
  CHECK(w[0].rfind("experience 1: test loss 312.5 with stream accuracy 0.1000 (chance 0.1000)", 0) == 0);
  CHECK(blowup_warnings(run, 0).empty());
  RunReport report;
  report.runs = {run};
  report.num_classes = 10;
  const std::string html = render_report(report);
  CHECK(html.find("<h2>Warnings</h2>") != std::string::npos);
  CHECK(html.find("AR1, experience 1: test loss 312.5") != std::string::npos);
  report.num_classes = 0;
  CHECK(render_report(report).find("<h2>Warnings</h2>") == std::string::npos);
}

TEST_CASE("report of a one-test-experience scenario shows per-class accuracy and the confusion matrix") {
  RunReport r = sample_report(3, false);
  StrategyRun& run = r.runs[0];
  for (auto& row : run.accuracy) row.resize(1);  // NIC, CORe50: one test experience
  run.class_accuracy = {{1.0, 0.0, kNotEvaluated, 0.0},
                        {0.9, 0.8, kNotEvaluated, 0.0},
                        {0.75, 0.5, kNotEvaluated, 0.75}};
  run.confusion = {{3, 1, 0, 0}, {1, 2, 0, 1}, {0, 0, 0, 0}, {0, 1, 0, 3}};
  const std::string html = render_report(r);
  CHECK(count(html, "<h2>Per-class accuracy of AR1</h2>") == 1);
  CHECK(count(html, "<h2>Accuracy matrix of AR1</h2>") == 0);  // a single column says little
  CHECK(count(html, "<title>after experience 2, on class 3: 75.0%</title>") == 1);
  CHECK(count(html, "<title>after experience 1, on class 2: not evaluated</title>") == 1);
  CHECK(count(html, "<h2>Confusion matrix of the final model</h2>") == 1);
  // Counts in the cells, coloured by their share of the row: 3 of the 4 images of class 0.
  CHECK(count(html, "<title>true class 0, predicted 0: 3 (75.0% of the row)</title>") == 1);
  CHECK(count(html, "<title>true class 2, predicted 1: no test image of this class</title>") == 1);
  // Each heat map has its own colour scale id.
  CHECK(count(html, "id=\"ar1-scale-class\"") == 1);
  CHECK(count(html, "id=\"ar1-scale-confusion\"") == 1);
  CHECK(count(html, "url(#ar1-scale-class)") == 1);

  // With several test experiences the accuracy matrix stays, and the confusion matrix follows.
  RunReport nc = sample_report(3, false);
  nc.runs[0].class_accuracy = run.class_accuracy;
  nc.runs[0].confusion = run.confusion;
  const std::string nc_html = render_report(nc);
  CHECK(count(nc_html, "<h2>Accuracy matrix of AR1</h2>") == 1);
  CHECK(count(nc_html, "<h2>Per-class accuracy of AR1</h2>") == 0);
  CHECK(count(nc_html, "<h2>Confusion matrix of the final model</h2>") == 1);
}

TEST_CASE("report comparison page: the table, one curve per run, balanced tags, self-contained") {
  ComparisonPage page;
  page.title = "ar1 compare <sweep>";
  page.header = {"group", "runs", "final accuracy"};
  page.groups = {"lr=0.01", "lr=0.003"};
  page.rows = {{"lr=0.01", "2", "0.7000 +- 0.0100"}, {"lr=0.003", "1", "0.6000"}};
  page.notes = {"runs/x: unfinished (1 experiences so far)"};
  const RunReport sample = sample_report(4, true);
  page.runs = {{"seed=0", 0, sample.runs[0]}, {"seed=1", 0, sample.runs[1]}, {"seed=0", 1, sample.runs[0]}};
  const std::string html = render_comparison(page);
  CHECK(tag_balance(html) == "");
  CHECK(count(html, "ar1 compare &lt;sweep&gt;") == 2);  // <title> and <h1>
  CHECK(count(html, "<td>0.7000 +- 0.0100</td>") == 1);
  CHECK(count(html, "unfinished (1 experiences so far)") == 1);
  const auto plots = svgs(html);
  REQUIRE(plots.size() == 2);  // stream accuracy and loss
  CHECK(count(plots[0], "<path") == 3);
  CHECK(count(plots[0], "<g class=\"legend\">") == 0);  // the table's swatches name the groups
  CHECK(count(plots[0], "lr=0.003 / seed=0, experience 3") == 1);
  CHECK(html.find("http") == std::string::npos);
  CHECK(html.find("<script") == std::string::npos);
}
