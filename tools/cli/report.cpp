#include "tools/cli/report.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "core/error.h"
#include "core/io/atomic_file.h"

namespace ar1::cli {

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

namespace {

// ---- small formatting helpers ------------------------------------------------------------

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  std::string s = buf;
  if (s == "-0" || s == "-0.0") s.erase(0, 1);
  return s;
}

// SVG coordinates: one decimal is finer than a pixel and keeps big plots small.
std::string px(double v) {
  std::string s = fixed(v, 1);
  if (s.size() > 2 && s.compare(s.size() - 2, 2, ".0") == 0) s.resize(s.size() - 2);
  return s;
}

std::string percent(double fraction) {
  return std::isfinite(fraction) ? fixed(100.0 * fraction, 1) + "%" : "–";
}

std::string seconds_text(double s) {
  if (!std::isfinite(s)) return "–";
  if (s < 60) return fixed(s, 1) + " s";
  if (s < 3600) return fixed(std::floor(s / 60), 0) + " min " + fixed(std::fmod(s, 60), 0) + " s";
  return fixed(std::floor(s / 3600), 0) + " h " + fixed(std::fmod(s, 3600) / 60, 0) + " min";
}

std::string number_text(double v, int decimals) {
  return std::isfinite(v) ? fixed(v, decimals) : "–";
}

// Series colours, distinguishable in colour and grey print.
constexpr std::array<const char*, 8> kPalette = {"#1b6ca8", "#d1495b", "#2e933c", "#edae49",
                                                 "#6a4c93", "#00798c", "#8c564b", "#555555"};

const char* colour_of(std::size_t i) { return kPalette[i % kPalette.size()]; }

// ---- axes --------------------------------------------------------------------------------

// A "nice" step (1, 2 or 5 times a power of ten) giving about `target` intervals.
double nice_step(double range, int target) {
  if (!(range > 0)) return 1;
  double raw = range / target;
  double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double f = raw / mag;
  double nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
  return nice * mag;
}

int decimals_for(double step) {
  if (step >= 1) return 0;
  return std::min(6, static_cast<int>(std::ceil(-std::log10(step) - 1e-9)));
}

struct Axis {
  double lo = 0, hi = 1, step = 1;
  std::vector<double> ticks() const {
    std::vector<double> t;
    for (double v = std::ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step)
      t.push_back(v);
    return t;
  }
};

// 0 .. a nice value above the largest finite value.
Axis value_axis(double max_value) {
  Axis a;
  if (!(max_value > 0) || !std::isfinite(max_value)) max_value = 1;
  a.step = nice_step(max_value, 5);
  a.hi = std::ceil(max_value / a.step - 1e-9) * a.step;
  return a;
}

// Experiences 0 .. n-1 with integer ticks.
Axis experience_axis(std::size_t n) {
  Axis a;
  a.hi = n > 1 ? static_cast<double>(n - 1) : 1;
  a.step = std::max(1.0, nice_step(a.hi, 10));
  return a;
}

// ---- SVG plots ---------------------------------------------------------------------------

struct Series {
  std::string name;
  std::string colour;
  std::vector<double> y;  // x = index; NaN: gap
};

struct PlotSpec {
  std::string title;    // the svg's <title> and aria-label
  std::string y_label;  // "stream accuracy (%)"
  std::string unit;     // in tooltips: "%", " s", " MiB"
  int decimals = 2;     // in tooltips
  bool percent = false; // values are fractions shown as 0..100
  bool bars = false;    // grouped bars (falls back to lines when too many)
  bool legend = true;   // a swatch per series above the plot (off: the page says it)
};

constexpr double kW = 760, kH = 330;
constexpr double kLeft = 64, kRight = 20, kTop = 40, kBottom = 46;

std::string svg_open(double w, double h, const std::string& title) {
  return "<svg class=\"plot\" width=\"" + px(w) + "\" height=\"" + px(h) + "\" viewBox=\"0 0 " +
         px(w) + " " + px(h) + "\" role=\"img\" aria-label=\"" + html_escape(title) +
         "\"><title>" + html_escape(title) + "</title>";
}

// Axes, grid, tick labels and axis titles for a plot area.
std::string frame(const Axis& x, const Axis& y, const std::string& x_label,
                  const std::string& y_label, double x_pad) {
  const double pw = kW - kLeft - kRight, ph = kH - kTop - kBottom;
  auto sx = [&](double v) { return kLeft + x_pad + (v - x.lo) / (x.hi - x.lo) * (pw - 2 * x_pad); };
  auto sy = [&](double v) { return kTop + ph - (v - y.lo) / (y.hi - y.lo) * ph; };
  std::string s = "<g class=\"axes\">";
  int yd = decimals_for(y.step);
  for (double t : y.ticks()) {
    s += "<line class=\"grid\" x1=\"" + px(kLeft) + "\" x2=\"" + px(kLeft + pw) + "\" y1=\"" +
         px(sy(t)) + "\" y2=\"" + px(sy(t)) + "\"/>";
    s += "<text x=\"" + px(kLeft - 6) + "\" y=\"" + px(sy(t) + 4) +
         "\" text-anchor=\"end\">" + fixed(t, yd) + "</text>";
  }
  for (double t : x.ticks()) {
    s += "<line class=\"tick\" x1=\"" + px(sx(t)) + "\" x2=\"" + px(sx(t)) + "\" y1=\"" +
         px(kTop + ph) + "\" y2=\"" + px(kTop + ph + 5) + "\"/>";
    s += "<text x=\"" + px(sx(t)) + "\" y=\"" + px(kTop + ph + 18) +
         "\" text-anchor=\"middle\">" + fixed(t, 0) + "</text>";
  }
  s += "<line class=\"axis\" x1=\"" + px(kLeft) + "\" x2=\"" + px(kLeft + pw) + "\" y1=\"" +
       px(kTop + ph) + "\" y2=\"" + px(kTop + ph) + "\"/>";
  s += "<line class=\"axis\" x1=\"" + px(kLeft) + "\" x2=\"" + px(kLeft) + "\" y1=\"" +
       px(kTop) + "\" y2=\"" + px(kTop + ph) + "\"/>";
  s += "<text class=\"label\" x=\"" + px(kLeft + pw / 2) + "\" y=\"" + px(kH - 8) +
       "\" text-anchor=\"middle\">" + html_escape(x_label) + "</text>";
  s += "<text class=\"label\" transform=\"translate(16 " + px(kTop + ph / 2) +
       ") rotate(-90)\" text-anchor=\"middle\">" + html_escape(y_label) + "</text>";
  return s + "</g>";
}

// A legend row above the plot area: a swatch and the name of each series.
std::string legend(const std::vector<Series>& series) {
  std::string s = "<g class=\"legend\">";
  double x = kLeft;
  for (const auto& se : series) {
    s += "<rect x=\"" + px(x) + "\" y=\"12\" width=\"14\" height=\"10\" fill=\"" + se.colour +
         "\"/>";
    s += "<text x=\"" + px(x + 19) + "\" y=\"21\">" + html_escape(se.name) + "</text>";
    x += 19 + 7.5 * static_cast<double>(se.name.size()) + 22;  // rough text width
  }
  return s + "</g>";
}

std::string svg_plot(const PlotSpec& spec, const std::vector<Series>& series) {
  std::size_t n = 0;
  double max_v = 0;
  bool any = false;
  const double scale = spec.percent ? 100.0 : 1.0;
  for (const auto& se : series) {
    n = std::max(n, se.y.size());
    for (double v : se.y)
      if (std::isfinite(v)) max_v = std::max(max_v, v * scale), any = true;
  }
  const Axis x = experience_axis(n);
  Axis y = spec.percent ? Axis{0, 100, 20} : value_axis(max_v);
  const double pw = kW - kLeft - kRight, ph = kH - kTop - kBottom;

  // Bars only while each stays a few pixels wide; then lines.
  const bool bars = spec.bars && n * std::max<std::size_t>(1, series.size()) <= 240;
  const double slot = pw / static_cast<double>(std::max<std::size_t>(n, 1));
  const double x_pad = bars ? slot / 2 : 0;
  auto sx = [&](double v) { return kLeft + x_pad + (v - x.lo) / (x.hi - x.lo) * (pw - 2 * x_pad); };
  auto sy = [&](double v) { return kTop + ph - (v * scale - y.lo) / (y.hi - y.lo) * ph; };

  std::string s = svg_open(kW, kH, spec.title);
  s += frame(x, y, "training experience", spec.y_label, x_pad);
  const bool markers = n <= 60;
  for (std::size_t r = 0; r < series.size(); ++r) {
    const auto& se = series[r];
    const std::string who = html_escape(se.name);
    s += "<g class=\"series\">";
    if (bars) {
      const double bw = slot * 0.8 / static_cast<double>(series.size());
      for (std::size_t k = 0; k < se.y.size(); ++k) {
        if (!std::isfinite(se.y[k])) continue;
        double x0 = sx(static_cast<double>(k)) - slot * 0.4 + bw * static_cast<double>(r);
        double top = sy(std::max(0.0, se.y[k]));
        s += "<rect x=\"" + px(x0) + "\" y=\"" + px(top) + "\" width=\"" + px(bw) +
             "\" height=\"" + px(kTop + ph - top) + "\" fill=\"" + se.colour + "\"><title>" +
             who + ", experience " + std::to_string(k) + ": " +
             fixed(se.y[k] * scale, spec.decimals) + spec.unit + "</title></rect>";
      }
    } else {
      // One path; a NaN starts a new piece ("M") so gaps stay gaps.
      std::string d;
      bool pen = false;
      std::vector<std::size_t> lone;  // points with no neighbour: drawn as dots
      for (std::size_t k = 0; k < se.y.size(); ++k) {
        if (!std::isfinite(se.y[k])) {
          pen = false;
          continue;
        }
        bool prev_ok = k > 0 && std::isfinite(se.y[k - 1]);
        bool next_ok = k + 1 < se.y.size() && std::isfinite(se.y[k + 1]);
        if (!prev_ok && !next_ok) lone.push_back(k);
        d += (pen ? "L" : "M") + px(sx(static_cast<double>(k))) + " " + px(sy(se.y[k]));
        pen = true;
      }
      if (!d.empty())
        s += "<path d=\"" + d + "\" fill=\"none\" stroke=\"" + se.colour +
             "\" stroke-width=\"2\"/>";
      for (std::size_t k = 0; k < se.y.size(); ++k) {
        if (!std::isfinite(se.y[k])) continue;
        bool is_lone = std::find(lone.begin(), lone.end(), k) != lone.end();
        if (!markers && !is_lone) continue;
        s += "<circle cx=\"" + px(sx(static_cast<double>(k))) + "\" cy=\"" + px(sy(se.y[k])) +
             "\" r=\"3\" fill=\"" + se.colour + "\"><title>" + who + ", experience " +
             std::to_string(k) + ": " + fixed(se.y[k] * scale, spec.decimals) + spec.unit +
             "</title></circle>";
      }
    }
    s += "</g>";
  }
  if (!any)
    s += "<text class=\"label\" x=\"" + px(kLeft + pw / 2) + "\" y=\"" + px(kTop + ph / 2) +
         "\" text-anchor=\"middle\">not measured</text>";
  if (spec.legend) s += legend(series);
  return s + "</svg>";
}

// ---- the heat map ------------------------------------------------------------------------

struct Rgb {
  std::uint8_t r, g, b;
};

// Sequential ramp, light (low accuracy) to dark (high); NaN is a neutral grey.
Rgb ramp(double t) {
  static constexpr double stops[][3] = {
      {253, 246, 211}, {196, 230, 178}, {95, 186, 171}, {42, 123, 178}, {30, 48, 112}};
  if (!std::isfinite(t)) return {228, 228, 228};
  t = std::clamp(t, 0.0, 1.0) * 4.0;
  int i = std::min(3, static_cast<int>(t));
  double f = t - i;
  auto mix = [&](int c) {
    double v = stops[i][c] + f * (stops[i + 1][c] - stops[i][c]);
    return static_cast<std::uint8_t>(std::lround(v));
  };
  return {mix(0), mix(1), mix(2)};
}

std::string hex(Rgb c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", c.r, c.g, c.b);
  return buf;
}

bool dark(Rgb c) { return 0.299 * c.r + 0.587 * c.g + 0.114 * c.b < 140; }

std::string base64(const std::vector<std::uint8_t>& bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    std::uint32_t v = static_cast<std::uint32_t>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<std::uint32_t>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) v |= bytes[i + 2];
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? kAlphabet[v & 63] : '=';
  }
  return out;
}

// An 8-bit RGB PNG, one pixel per cell: signature, IHDR, one IDAT, IEND.
std::vector<std::uint8_t> png_rgb(std::size_t width, std::size_t height,
                                  const std::vector<Rgb>& pixels) {
  std::vector<std::uint8_t> out = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  auto be32 = [](std::vector<std::uint8_t>& v, std::uint32_t x) {
    for (int s = 24; s >= 0; s -= 8) v.push_back(static_cast<std::uint8_t>(x >> s));
  };
  auto chunk = [&](const char* type, const std::vector<std::uint8_t>& data) {
    be32(out, static_cast<std::uint32_t>(data.size()));
    std::vector<std::uint8_t> body(type, type + 4);
    body.insert(body.end(), data.begin(), data.end());
    out.insert(out.end(), body.begin(), body.end());
    be32(out, static_cast<std::uint32_t>(crc32(0L, body.data(), static_cast<uInt>(body.size()))));
  };
  std::vector<std::uint8_t> ihdr;
  be32(ihdr, static_cast<std::uint32_t>(width));
  be32(ihdr, static_cast<std::uint32_t>(height));
  ihdr.insert(ihdr.end(), {8, 2, 0, 0, 0});  // 8 bits, RGB, deflate, no filter, no interlace
  chunk("IHDR", ihdr);

  std::vector<std::uint8_t> raw;
  raw.reserve(height * (1 + 3 * width));
  for (std::size_t r = 0; r < height; ++r) {
    raw.push_back(0);  // filter: none
    for (std::size_t c = 0; c < width; ++c) {
      const Rgb& p = pixels[r * width + c];
      raw.insert(raw.end(), {p.r, p.g, p.b});
    }
  }
  uLongf size = compressBound(static_cast<uLong>(raw.size()));
  std::vector<std::uint8_t> z(size);
  AR1_CHECK(compress2(z.data(), &size, raw.data(), static_cast<uLong>(raw.size()), 9) == Z_OK,
            "[report] zlib could not compress the heat map image");
  z.resize(size);
  chunk("IDAT", z);
  chunk("IEND", {});
  return out;
}

// A matrix as a heat map: the accuracy matrix, the per-class accuracy after each experience,
// the confusion matrix. Colours come from `colour_value` (0..1), cell text from `cell_value`.
struct HeatMapSpec {
  std::string title;
  std::string x_label, y_label;  // columns, rows
  std::string row_word, col_word;  // tooltips: "after experience 3, on class 7: 91.0%"
  bool counts = false;  // cells hold counts: coloured by share of their row, shown as integers
  std::string id;  // unique in the page: names the colour scale's gradient
};

std::string svg_heat_map(const std::vector<std::vector<double>>& m, const HeatMapSpec& spec) {
  const std::size_t rows = m.size();
  std::size_t cols = 0;
  for (const auto& row : m) cols = std::max(cols, row.size());
  std::vector<double> row_sum(rows, 0.0);
  for (std::size_t k = 0; k < rows; ++k)
    for (double v : m[k]) row_sum[k] += std::isfinite(v) ? v : 0.0;
  auto raw = [&](std::size_t k, std::size_t j) {
    return j < m[k].size() ? m[k][j] : kNotEvaluated;
  };
  // What the colour shows: the value itself (accuracies) or its share of the row (counts).
  auto at = [&](std::size_t k, std::size_t j) {
    const double v = raw(k, j);
    if (!spec.counts) return v;
    return row_sum[k] > 0 && std::isfinite(v) ? v / row_sum[k] : kNotEvaluated;
  };
  auto tip = [&](std::size_t k, std::size_t j) {
    const double v = raw(k, j);
    if (!std::isfinite(v)) return std::string("not evaluated");
    if (spec.counts && row_sum[k] == 0) return std::string("no test image of this class");
    return spec.counts ? fixed(v, 0) + " (" + percent(at(k, j)) + " of the row)" : percent(v);
  };
  bool any_nan = false;
  for (std::size_t k = 0; k < rows; ++k)
    for (std::size_t j = 0; j < cols; ++j) any_nan |= !std::isfinite(at(k, j));

  const bool labelled = rows <= kMaxLabelledSide && cols <= kMaxLabelledSide;
  const bool vector = rows * cols <= kMaxVectorCells;
  const double side = static_cast<double>(std::max(rows, cols));
  const double cell = std::clamp(560.0 / side, 1.0, labelled ? 44.0 : 24.0);
  const double left = 70, top = 34, mw = cell * static_cast<double>(cols),
               mh = cell * static_cast<double>(rows);
  const double scale_x = left + mw + 30;
  const double w = scale_x + 110, h = std::max(top + mh + 52, top + 260);

  std::string s = svg_open(w, h, spec.title);
  if (vector) {
    const std::string font = fixed(std::clamp(cell * 0.32, 7.0, 12.0), 1);
    for (std::size_t k = 0; k < rows; ++k) {
      for (std::size_t j = 0; j < cols; ++j) {
        double v = at(k, j);
        Rgb c = ramp(v);
        double x = left + cell * static_cast<double>(j), y = top + cell * static_cast<double>(k);
        s += "<rect x=\"" + px(x) + "\" y=\"" + px(y) + "\" width=\"" + px(cell) +
             "\" height=\"" + px(cell) + "\" fill=\"" + hex(c) + "\"><title>" + spec.row_word + " " +
             std::to_string(k) + ", " + spec.col_word + " " + std::to_string(j) + ": " + tip(k, j) +
             "</title></rect>";
        if (labelled && std::isfinite(v))
          s += "<text x=\"" + px(x + cell / 2) + "\" y=\"" + px(y + cell / 2 + 4) +
               "\" text-anchor=\"middle\" font-size=\"" + font + "\" fill=\"" +
               (dark(c) ? "#fff" : "#222") + "\">" +
               (spec.counts ? fixed(raw(k, j), 0) : fixed(100 * v, cell >= 34 ? 1 : 0)) +
               "</text>";
      }
    }
  } else {
    std::vector<Rgb> pixels(rows * cols);
    for (std::size_t k = 0; k < rows; ++k)
      for (std::size_t j = 0; j < cols; ++j) pixels[k * cols + j] = ramp(at(k, j));
    s += "<image x=\"" + px(left) + "\" y=\"" + px(top) + "\" width=\"" + px(mw) +
         "\" height=\"" + px(mh) +
         "\" preserveAspectRatio=\"none\" style=\"image-rendering:pixelated\" href=\"data:image/"
         "png;base64," + base64(png_rgb(cols, rows, pixels)) + "\"/>";
  }
  s += "<rect x=\"" + px(left) + "\" y=\"" + px(top) + "\" width=\"" + px(mw) + "\" height=\"" +
       px(mh) + "\" fill=\"none\" stroke=\"#888\"/>";

  // Ticks: every index when labelled, else a nice subset, at cell centres.
  auto index_ticks = [&](std::size_t n) {
    std::vector<std::size_t> t;
    std::size_t step = labelled ? 1 : static_cast<std::size_t>(nice_step(double(n), 8));
    for (std::size_t i = 0; i < n; i += std::max<std::size_t>(step, 1)) t.push_back(i);
    return t;
  };
  for (std::size_t j : index_ticks(cols))
    s += "<text x=\"" + px(left + cell * (double(j) + 0.5)) + "\" y=\"" + px(top - 6) +
         "\" text-anchor=\"middle\">" + std::to_string(j) + "</text>";
  for (std::size_t k : index_ticks(rows))
    s += "<text x=\"" + px(left - 6) + "\" y=\"" + px(top + cell * (double(k) + 0.5) + 4) +
         "\" text-anchor=\"end\">" + std::to_string(k) + "</text>";
  // Centred under the matrix, but never so far left that a narrow one clips it.
  s += "<text class=\"label\" x=\"" + px(std::max(left + mw / 2, 100.0)) + "\" y=\"" +
       px(top + mh + 22) + "\" text-anchor=\"middle\">" + html_escape(spec.x_label) + "</text>";
  s += "<text class=\"label\" transform=\"translate(18 " + px(top + mh / 2) +
       ") rotate(-90)\" text-anchor=\"middle\">" + html_escape(spec.y_label) + "</text>";

  // Colour scale: a vertical gradient, 100% at the top.
  const double bar_h = 200;
  s += "<defs><linearGradient id=\"ar1-scale-" + spec.id + "\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">";
  for (int i = 0; i <= 10; ++i)
    s += "<stop offset=\"" + fixed(i / 10.0, 1) + "\" stop-color=\"" + hex(ramp(i / 10.0)) +
         "\"/>";
  s += "</linearGradient></defs>";
  s += "<rect x=\"" + px(scale_x) + "\" y=\"" + px(top) + "\" width=\"16\" height=\"" +
       px(bar_h) + "\" fill=\"url(#ar1-scale-" + spec.id + ")\" stroke=\"#888\"/>";
  for (int p = 0; p <= 100; p += 25)
    s += "<text x=\"" + px(scale_x + 22) + "\" y=\"" + px(top + bar_h * (1 - p / 100.0) + 4) +
         "\">" + std::to_string(p) + "%" + (spec.counts ? " of row" : "") + "</text>";
  if (any_nan) {
    s += "<rect x=\"" + px(scale_x) + "\" y=\"" + px(top + bar_h + 16) +
         "\" width=\"16\" height=\"12\" fill=\"" + hex(ramp(kNotEvaluated)) +
         "\" stroke=\"#888\"/>";
    s += "<text x=\"" + px(scale_x + 22) + "\" y=\"" + px(top + bar_h + 26) +
         "\">not evaluated</text>";
  }
  return s + "</svg>";
}

// ---- the page ----------------------------------------------------------------------------

constexpr const char* kStyle = R"(
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#222;
  background:#fafafa}
main{max-width:980px;margin:0 auto;padding:16px 24px 48px}
h1{font-size:1.6em;margin:.4em 0 .1em}
h2{font-size:1.2em;margin:1.6em 0 .4em;border-bottom:1px solid #ddd}
.date{color:#666;margin:0 0 1em}
table{border-collapse:collapse;font-size:.92em;background:#fff}
th,td{border:1px solid #ddd;padding:3px 9px;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}
th{background:#f0f0f0}
svg.plot{display:block;max-width:100%;height:auto;background:#fff;border:1px solid #e4e4e4;
  font-size:12px}
svg .grid{stroke:#eee}svg .tick,svg .axis{stroke:#444}svg .label{font-size:13px;fill:#333}
.note{color:#666;font-size:.9em}
details{margin:1em 0}summary{cursor:pointer}
)";

double last_finite(const std::vector<ExperienceStats>& xs, double ExperienceStats::*field) {
  for (auto it = xs.rbegin(); it != xs.rend(); ++it)
    if (std::isfinite((*it).*field)) return (*it).*field;
  return kNotEvaluated;
}

std::vector<double> column(const StrategyRun& run, double ExperienceStats::*field) {
  std::vector<double> v;
  v.reserve(run.experiences.size());
  for (const auto& e : run.experiences) v.push_back(e.*field);
  return v;
}

std::vector<Series> series_of(const RunReport& r, double ExperienceStats::*field) {
  std::vector<Series> out;
  for (std::size_t i = 0; i < r.runs.size(); ++i)
    out.push_back({r.runs[i].name, colour_of(i), column(r.runs[i], field)});
  return out;
}

std::string summary_table(const RunReport& r) {
  std::string s =
      "<table class=\"summary\"><thead><tr><th>strategy</th><th>experiences</th><th>final "
      "stream accuracy</th><th>mean stream accuracy</th><th>final loss</th><th>total "
      "time</th><th>peak memory</th></tr></thead><tbody>";
  for (const auto& run : r.runs) {
    double total = 0, mean = 0, peak = kNotEvaluated;
    std::size_t n_acc = 0;
    bool any_time = false;
    for (const auto& e : run.experiences) {
      if (std::isfinite(e.seconds)) total += e.seconds, any_time = true;
      if (std::isfinite(e.stream_accuracy)) mean += e.stream_accuracy, ++n_acc;
      if (std::isfinite(e.peak_mib))
        peak = std::isfinite(peak) ? std::max(peak, e.peak_mib) : e.peak_mib;
    }
    mean = n_acc ? mean / double(n_acc) : kNotEvaluated;
    s += "<tr><td>" + html_escape(run.name) + "</td><td class=\"num\">" +
         std::to_string(run.experiences.size()) + "</td><td class=\"num\">" +
         percent(last_finite(run.experiences, &ExperienceStats::stream_accuracy)) +
         "</td><td class=\"num\">" + percent(mean) + "</td><td class=\"num\">" +
         number_text(last_finite(run.experiences, &ExperienceStats::loss), 4) +
         "</td><td class=\"num\">" + (any_time ? seconds_text(total) : "–") +
         "</td><td class=\"num\">" + (std::isfinite(peak) ? fixed(peak, 0) + " MiB" : "–") +
         "</td></tr>";
  }
  return s + "</tbody></table>";
}

std::string per_experience_table(const RunReport& r) {
  std::string s = "<table><thead><tr><th>strategy</th><th>experience</th><th>stream "
                  "accuracy</th><th>loss</th><th>time</th><th>peak memory (MiB)</th></tr>"
                  "</thead><tbody>";
  for (const auto& run : r.runs) {
    const std::string who = html_escape(run.name);
    for (std::size_t k = 0; k < run.experiences.size(); ++k) {
      const auto& e = run.experiences[k];
      s += "<tr><td>" + who + "</td><td class=\"num\">" + std::to_string(k) +
           "</td><td class=\"num\">" + percent(e.stream_accuracy) + "</td><td class=\"num\">" +
           number_text(e.loss, 4) + "</td><td class=\"num\">" + seconds_text(e.seconds) +
           "</td><td class=\"num\">" + number_text(e.peak_mib, 0) + "</td></tr>";
    }
  }
  return s + "</tbody></table>";
}

}  // namespace

std::vector<std::string> blowup_warnings(const StrategyRun& run, long long num_classes) {
  std::vector<std::string> out;
  if (num_classes <= 0) return out;
  const double chance = 1.0 / static_cast<double>(num_classes);
  for (size_t k = 0; k < run.experiences.size(); ++k) {
    const ExperienceStats& e = run.experiences[k];
    if (!(e.loss > kBlowUpLoss) || !(e.stream_accuracy <= 1.5 * chance)) continue;
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "experience %zu: test loss %.1f with stream accuracy %.4f (chance %.4f): the "
                  "evaluation blew up; try --recalibrate-norm and --replay-wrap",
                  k, e.loss, e.stream_accuracy, chance);
    out.emplace_back(buf);
  }
  return out;
}


std::string render_report(const RunReport& r) {
  std::string s;
  s.reserve(1 << 16);
  s += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>" +
       html_escape(r.title) + "</title><style>" + kStyle + "</style></head><body><main>\n";
  s += "<h1>" + html_escape(r.title) + "</h1>";
  if (!r.date.empty()) s += "<p class=\"date\">" + html_escape(r.date) + "</p>";

  std::vector<std::string> warnings;
  for (const StrategyRun& run : r.runs) {
    if (r.num_classes <= 0) break;
    for (const std::string& w : blowup_warnings(run, r.num_classes)) {
      warnings.push_back(run.name + ", " + w);
    }
  }
  if (!warnings.empty()) {
    s += "\n<h2>Warnings</h2><ul class=\"warnings\">";
    for (const std::string& w : warnings) s += "<li>" + html_escape(w) + "</li>";
    s += "</ul>";
  }

  s += "\n<h2>Summary</h2>";
  if (r.runs.empty()) {
    s += "<p class=\"note\">No strategy has run yet.</p>";
  } else {
    s += summary_table(r);

    s += "\n<h2>Stream accuracy after each experience</h2>";
    s += svg_plot({"Stream accuracy per training experience", "stream accuracy (%)", "%", 1,
                   true, false},
                  series_of(r, &ExperienceStats::stream_accuracy));

    const StrategyRun& main_run = r.runs.front();
    // One test experience (NIC, CORe50): the accuracy matrix would be one column, so the
    // per-class accuracy after each experience takes its place.
    std::size_t test_experiences = 0;
    for (const auto& row : main_run.accuracy) test_experiences = std::max(test_experiences, row.size());
    const bool per_class = test_experiences == 1 && !main_run.class_accuracy.empty();
    if (per_class) {
      s += "\n<h2>Per-class accuracy of " + html_escape(main_run.name) + "</h2>";
      s += "<p class=\"note\">The test stream is one experience. Row k: after training "
           "experience k; column c: accuracy on the test images of class c.</p>";
      s += svg_heat_map(main_run.class_accuracy,
                        {"Per-class accuracy of " + main_run.name, "class",
                         "after training experience", "after experience", "on class", false,
                         "class"});
    } else {
      s += "\n<h2>Accuracy matrix of " + html_escape(main_run.name) + "</h2>";
      if (main_run.accuracy.empty()) {
        s += "<p class=\"note\">No per-experience evaluation was recorded.</p>";
      } else {
        s += "<p class=\"note\">Row k: after training experience k; column j: accuracy on test "
             "experience j.</p>";
        s += svg_heat_map(main_run.accuracy,
                          {"Accuracy matrix of " + main_run.name, "evaluated on test experience",
                           "after training experience", "after experience", "on experience",
                           false, "matrix"});
      }
    }
    if (!main_run.confusion.empty()) {
      s += "\n<h2>Confusion matrix of the final model</h2>";
      s += "<p class=\"note\">After the last training experience, on the whole test stream. "
           "Row: true class; column: predicted class; colour: the cell's share of its row.</p>";
      s += svg_heat_map(main_run.confusion,
                        {"Confusion matrix of " + main_run.name, "predicted class", "true class",
                         "true class", "predicted", true, "confusion"});
    }

    s += "\n<h2>Loss</h2>";
    s += svg_plot({"Test stream loss per training experience", "loss", "", 4, false, false},
                  series_of(r, &ExperienceStats::loss));
    s += "\n<h2>Time per experience</h2>";
    s += svg_plot({"Wall time per training experience", "seconds", " s", 1, false, true},
                  series_of(r, &ExperienceStats::seconds));
    s += "\n<h2>Peak memory per experience</h2>";
    s += svg_plot({"Peak memory per training experience", "MiB", " MiB", 0, false, false},
                  series_of(r, &ExperienceStats::peak_mib));

    s += "\n<details><summary>Per-experience numbers</summary>" + per_experience_table(r) +
         "</details>";
  }

  s += "\n<h2>Configuration</h2><table class=\"config\"><tbody>";
  for (const auto& [k, v] : r.config)
    s += "<tr><th>" + html_escape(k) + "</th><td>" + html_escape(v) + "</td></tr>";
  s += "</tbody></table>\n</main></body></html>\n";
  return s;
}

std::string render_comparison(const ComparisonPage& page) {
  std::string s;
  s += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
       "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>" +
       html_escape(page.title) + "</title><style>" + kStyle + "</style></head><body><main>\n";
  s += "<h1>" + html_escape(page.title) + "</h1><p class=\"date\">" + html_escape(page.date) +
       "</p>";
  if (!page.notes.empty()) {
    s += "\n<h2>Notes</h2><ul class=\"warnings\">";
    for (const std::string& n : page.notes) s += "<li>" + html_escape(n) + "</li>";
    s += "</ul>";
  }
  s += "\n<h2>Summary</h2><p class=\"note\">Mean &plusmn; sample standard deviation over the "
       "runs of each group (runs whose configs differ only in seed).</p><table><thead><tr>";
  for (const std::string& h : page.header) s += "<th>" + html_escape(h) + "</th>";
  s += "</tr></thead><tbody>";
  for (std::size_t g = 0; g < page.rows.size(); ++g) {
    s += "<tr>";
    for (std::size_t c = 0; c < page.rows[g].size(); ++c) {
      const std::string text = html_escape(page.rows[g][c]);
      s += c == 0 ? "<td><span style=\"color:" + std::string(colour_of(g)) + "\">&#9632;</span> " +
                        text + "</td>"
                  : "<td>" + text + "</td>";
    }
    s += "</tr>";
  }
  s += "</tbody></table>";
  std::vector<Series> accuracy, loss;
  for (const ComparedRun& r : page.runs) {
    const std::string name = page.groups[r.group] + " / " + r.name;
    accuracy.push_back({name, colour_of(r.group), column(r.run, &ExperienceStats::stream_accuracy)});
    loss.push_back({name, colour_of(r.group), column(r.run, &ExperienceStats::loss)});
  }
  s += "\n<h2>Stream accuracy after each experience, every run</h2>";
  s += svg_plot({"Stream accuracy per training experience, every run", "stream accuracy (%)",
                 "%", 1, true, false, false}, accuracy);
  s += "\n<h2>Test stream loss after each experience, every run</h2>";
  s += svg_plot({"Test stream loss per training experience, every run", "loss", "", 4, false,
                 false, false}, loss);
  s += "\n<h2>Runs</h2><table><thead><tr><th>group</th><th>run</th><th>experiences</th>"
       "<th>final stream accuracy</th></tr></thead><tbody>";
  for (const ComparedRun& r : page.runs) {
    s += "<tr><td><span style=\"color:" + std::string(colour_of(r.group)) + "\">&#9632;</span> " +
         html_escape(page.groups[r.group]) + "</td><td>" + html_escape(r.name) + "</td><td>" +
         std::to_string(r.run.experiences.size()) + "</td><td>" +
         percent(last_finite(r.run.experiences, &ExperienceStats::stream_accuracy)) + "</td></tr>";
  }
  s += "</tbody></table>\n</main></body></html>\n";
  return s;
}

void write_report(const std::filesystem::path& path, const RunReport& report) {
  write_file_atomically(path, render_report(report), "report");
}

}  // namespace ar1::cli
