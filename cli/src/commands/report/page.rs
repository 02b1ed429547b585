//! `zcc report --html FILE`: one self-contained page of the report, for a supervisor to look
//! at rather than read. Everything is inline (the CSS of `page.css`, and charts drawn here as SVG); the page
//! loads nothing and runs no script, so it opens the same from a mail attachment or offline.
//!
//! - the header: the range, the service-level threshold, and the totals as big numbers;
//! - "Volume and service level by hour": offered per hour (abandoned painted over its top)
//!   on all 24 hours, with the service level as a line on a 0–100 % axis;
//! - "Handle time by queue": mean talk, hold and wrap-up stacked per queue, with AHT and p90;
//! - the report as requested (`--by`), every figure, as a table.
//!
//! Every text that comes from the data (queue and agent names, group keys) goes through
//! [`escape`].

use std::fmt::Write as _;

use zcc_domain::report::Figures;

use super::Report;

/// The page: header, the two charts, then the requested report as a table.
pub fn render(report: &Report, by_hour: &Report, by_queue: &Report) -> String {
    let mut page = String::with_capacity(48 * 1024);
    page.push_str("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    page.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(
        page,
        "<title>Contact center report · {}</title>",
        escape(&range_text(report))
    );
    let _ = writeln!(page, "<style>{STYLE}</style>\n</head>\n<body>\n<main>");
    page.push_str(&header(report));
    page.push_str(&section(
        "volume",
        "Volume and service level by hour",
        &hour_legend(by_hour),
        &hour_chart(by_hour),
    ));
    page.push_str(&section(
        "handle",
        "Handle time by queue",
        &handle_legend(),
        &handle_chart(by_queue),
    ));
    page.push_str(&table_section(report));
    page.push_str("</main>\n</body>\n</html>\n");
    page
}

/// Text made safe for HTML content and attribute values (double- or single-quoted).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Numbers as people read them.

/// A count with thousands separators: `12,345`.
fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A rate (0..1) as a percentage with one decimal: `83.3%`.
fn percent(rate: f64) -> String {
    format!("{:.1}%", rate * 100.0)
}

/// Milliseconds as seconds with one decimal, for the table; `–` where there is no value.
fn seconds(ms: Option<i64>) -> String {
    ms.map(|ms| format!("{:.1}", ms as f64 / 1000.0))
        .unwrap_or_else(|| "–".into())
}

/// A duration's figures and units, largest first: `[("4", "m"), ("05", "s")]`.
fn duration_parts(ms: i64) -> Vec<(String, &'static str)> {
    let s = (ms as f64 / 1000.0).round() as i64;
    match s {
        ..60 => vec![(s.to_string(), "s")],
        60..3600 => vec![((s / 60).to_string(), "m"), (format!("{:02}", s % 60), "s")],
        _ => vec![
            ((s / 3600).to_string(), "h"),
            (format!("{:02}", s % 3600 / 60), "m"),
        ],
    }
}

/// Milliseconds as a short duration: `18 s`, `4 m 05 s`, `1 h 02 m`; `–` where none.
fn duration(ms: Option<i64>) -> String {
    let Some(ms) = ms else {
        return "–".into();
    };
    let parts: Vec<String> = duration_parts(ms)
        .into_iter()
        .map(|(n, unit)| format!("{n} {unit}"))
        .collect();
    parts.join(" ")
}

/// A duration as a big number (HTML): the units smaller than the figures.
fn big_duration(ms: Option<i64>) -> String {
    let Some(ms) = ms else {
        return "–".into();
    };
    let parts: Vec<String> = duration_parts(ms)
        .into_iter()
        .map(|(n, unit)| format!("{n}{}", unit_html(unit)))
        .collect();
    parts.join(" ")
}

/// A rate as a big number (HTML): `42.5` and a smaller `%`; `–` when nothing was offered
/// (a rate of nothing is no rate).
fn big_rate(rate: f64, offered: u64) -> String {
    if offered == 0 {
        return "–".into();
    }
    format!("{:.1}{}", rate * 100.0, unit_html("%"))
}

fn unit_html(unit: &str) -> String {
    format!("<span class=\"unit\">{unit}</span>")
}

/// The range as a heading: whole days as days, otherwise to the minute, in UTC.
fn range_text(report: &Report) -> String {
    let (from, to) = (report.from.to_iso(), report.to.to_iso());
    let whole_days = from.ends_with("T00:00:00.000Z") && to.ends_with("T23:59:59.999Z");
    if whole_days && from[..10] == to[..10] {
        format!("{} (UTC)", &from[..10])
    } else if whole_days {
        format!("{} – {} (UTC)", &from[..10], &to[..10])
    } else {
        let minute = |iso: &str| iso[..16].replace('T', " ");
        format!("{} – {} UTC", minute(&from), minute(&to))
    }
}

/// A queue's or agent's label: its name where the rows carry one, else its id.
fn label(f: &Figures) -> &str {
    f.name
        .as_deref()
        .filter(|n| !n.is_empty())
        .unwrap_or(&f.group)
}

/// At most `max` characters, with an ellipsis when cut.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let kept: String = text.chars().take(max - 1).collect();
        format!("{kept}…")
    }
}

// ---------------------------------------------------------------------------------------
// The header.

fn header(report: &Report) -> String {
    let t = &report.total;
    let mut out = String::from("<header>\n<h1>Contact center report</h1>\n");
    let _ = writeln!(
        out,
        "<p class=\"meta\">{} · grouped by {} · service level threshold <strong>{} s</strong></p>",
        escape(&range_text(report)),
        report.by.as_str(),
        report.sla_seconds
    );
    if report.engagements == 0 {
        out.push_str(
            "<p class=\"notice\" role=\"status\">No ended engagements in this range: \
             nothing was offered, so the charts below are empty.</p>\n",
        );
    }
    let answered_share = if t.offered == 0 {
        "nothing offered".to_owned()
    } else {
        format!(
            "{} of offered",
            percent(t.answered as f64 / t.offered as f64)
        )
    };
    let cards = [
        kpi("Offered", &count(t.offered), "ended engagements"),
        kpi("Answered", &count(t.answered), &answered_share),
        kpi(
            "Abandon rate",
            &big_rate(t.abandon_rate, t.offered),
            &format!("{} abandoned", count(t.abandoned)),
        ),
        kpi(
            "Service level",
            &big_rate(t.service_level, t.offered),
            &format!("answered within {} s", report.sla_seconds),
        ),
        kpi(
            "ASA",
            &big_duration(t.average_speed_of_answer_ms),
            "average speed of answer",
        ),
        kpi(
            "AHT",
            &big_duration(t.average_handle_ms),
            &format!("average handle time · p90 {}", duration(t.p90_handle_ms)),
        ),
    ];
    out.push_str("<dl class=\"kpis\">\n");
    for card in cards {
        out.push_str(&card);
    }
    out.push_str("</dl>\n</header>\n");
    out
}

/// A big number: `value` is HTML made here from numbers (never from the data).
fn kpi(name: &str, value: &str, note: &str) -> String {
    format!(
        "<div class=\"kpi\"><dt>{}</dt><dd class=\"value\">{value}</dd><dd class=\"note\">{}</dd></div>\n",
        escape(name),
        escape(note)
    )
}

fn section(id: &str, heading: &str, legend: &str, chart: &str) -> String {
    format!(
        "<section id=\"{id}\" aria-labelledby=\"{id}-h\">\n<h2 id=\"{id}-h\">{}</h2>\n{legend}{chart}</section>\n",
        escape(heading)
    )
}

/// A legend entry: `kind` is the swatch's class (its colour and shape).
fn legend_item(kind: &str, text: &str) -> String {
    format!(
        "<li><span class=\"swatch {kind}\" aria-hidden=\"true\"></span>{}</li>",
        escape(text)
    )
}

fn legend(items: &[String]) -> String {
    format!("<ul class=\"legend\">{}</ul>\n", items.concat())
}

// ---------------------------------------------------------------------------------------
// SVG: a small writer, a linear scale, and the two charts.

/// How a text is anchored at its x.
#[derive(Clone, Copy)]
enum Anchor {
    Start,
    Middle,
    End,
}

impl Anchor {
    fn as_str(self) -> &'static str {
        match self {
            Self::Start => "start",
            Self::Middle => "middle",
            Self::End => "end",
        }
    }
}

/// An `<svg role="img">` being written, with its title and description.
struct Svg {
    out: String,
}

impl Svg {
    fn new(id: &str, width: f64, height: f64, title: &str, desc: &str) -> Self {
        let mut out = String::with_capacity(16 * 1024);
        let _ = write!(
            out,
            "<svg id=\"{id}\" class=\"chart\" role=\"img\" viewBox=\"0 0 {width:.0} {height:.0}\" \
             aria-labelledby=\"{id}-title {id}-desc\">"
        );
        let _ = writeln!(
            out,
            "<title id=\"{id}-title\">{}</title><desc id=\"{id}-desc\">{}</desc>",
            escape(title),
            escape(desc)
        );
        Self { out }
    }

    /// A rectangle, with a tooltip (`<title>`) when given.
    fn rect(&mut self, class: &str, x: f64, y: f64, w: f64, h: f64, tip: Option<&str>) {
        let _ = write!(
            self.out,
            "<rect class=\"{class}\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{:.1}\"",
            w.max(0.0),
            h.max(0.0)
        );
        self.close("rect", tip);
    }

    fn line(&mut self, class: &str, (x1, y1): (f64, f64), (x2, y2): (f64, f64)) {
        let _ = writeln!(
            self.out,
            "<line class=\"{class}\" x1=\"{x1:.1}\" y1=\"{y1:.1}\" x2=\"{x2:.1}\" y2=\"{y2:.1}\"/>"
        );
    }

    fn circle(&mut self, class: &str, (cx, cy): (f64, f64), r: f64, tip: Option<&str>) {
        let _ = write!(
            self.out,
            "<circle class=\"{class}\" cx=\"{cx:.1}\" cy=\"{cy:.1}\" r=\"{r:.1}\""
        );
        self.close("circle", tip);
    }

    /// A polyline through `points`; each inner `Vec` is one unbroken run.
    fn path(&mut self, class: &str, runs: &[Vec<(f64, f64)>]) {
        let mut d = String::new();
        for run in runs {
            for (i, (x, y)) in run.iter().enumerate() {
                let _ = write!(d, "{}{x:.1},{y:.1} ", if i == 0 { 'M' } else { 'L' });
            }
        }
        if !d.is_empty() {
            let _ = writeln!(self.out, "<path class=\"{class}\" d=\"{}\"/>", d.trim_end());
        }
    }

    fn text(&mut self, class: &str, (x, y): (f64, f64), anchor: Anchor, text: &str) {
        self.text_with_tip(class, (x, y), anchor, text, None);
    }

    fn text_with_tip(
        &mut self,
        class: &str,
        (x, y): (f64, f64),
        anchor: Anchor,
        text: &str,
        tip: Option<&str>,
    ) {
        let _ = write!(
            self.out,
            "<text class=\"{class}\" x=\"{x:.1}\" y=\"{y:.1}\" text-anchor=\"{}\">{}",
            anchor.as_str(),
            escape(text)
        );
        if let Some(tip) = tip {
            let _ = write!(self.out, "<title>{}</title>", escape(tip));
        }
        self.out.push_str("</text>\n");
    }

    /// A text turned a quarter anticlockwise (an axis title), centred at `(x, y)`.
    fn vertical_text(&mut self, class: &str, (x, y): (f64, f64), text: &str) {
        let _ = writeln!(
            self.out,
            "<text class=\"{class}\" x=\"{x:.1}\" y=\"{y:.1}\" text-anchor=\"middle\" \
             transform=\"rotate(-90 {x:.1} {y:.1})\">{}</text>",
            escape(text)
        );
    }

    fn close(&mut self, element: &str, tip: Option<&str>) {
        match tip {
            Some(tip) => {
                let _ = writeln!(self.out, "><title>{}</title></{element}>", escape(tip));
            }
            None => self.out.push_str("/>\n"),
        }
    }

    fn finish(mut self) -> String {
        self.out.push_str("</svg>\n");
        self.out
    }
}

/// A linear axis from 0 to `top`, ticked every `step`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Scale {
    top: f64,
    step: f64,
}

impl Scale {
    /// Counts on four intervals (so that its grid meets the percentage axis's quarters), the
    /// step a whole "nice" number; at least 0..4.
    fn counts(max: u64) -> Self {
        let need = (max.max(4) as f64 / 4.0).ceil();
        let step = nice_steps().find(|s| *s >= need).unwrap_or(need);
        Self {
            top: step * 4.0,
            step,
        }
    }

    /// Seconds on at most six intervals of a step people count in; at least 0..60 s.
    fn seconds(max: f64) -> Self {
        const STEPS: [f64; 14] = [
            1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0,
            7200.0,
        ];
        let max = max.max(60.0);
        let step = STEPS
            .into_iter()
            .find(|s| max / s <= 6.0)
            .unwrap_or_else(|| (max / 6.0 / 3600.0).ceil() * 3600.0);
        Self {
            top: (max / step).ceil() * step,
            step,
        }
    }

    /// 0 to 100 % in quarters.
    fn rate() -> Self {
        Self {
            top: 1.0,
            step: 0.25,
        }
    }

    fn ticks(self) -> impl Iterator<Item = f64> {
        let n = (self.top / self.step).round() as usize;
        (0..=n).map(move |i| i as f64 * self.step)
    }

    /// Where `value` falls, from 0 (the axis) to 1 (the top).
    fn at(self, value: f64) -> f64 {
        (value / self.top).clamp(0.0, 1.0)
    }
}

/// 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10ⁿ: whole steps for counts.
fn nice_steps() -> impl Iterator<Item = f64> {
    (0..12).flat_map(|power| {
        [1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0]
            .into_iter()
            .map(move |m| m * 10f64.powi(power))
            .filter(|s| s.fract() == 0.0)
    })
}

fn seconds_tick(value: f64, step: f64) -> String {
    if value == 0.0 {
        "0".into()
    } else if step >= 60.0 {
        format!("{} min", value / 60.0)
    } else {
        format!("{value} s")
    }
}

/// The plotting area of a chart, in the SVG's units.
#[derive(Clone, Copy)]
struct Plot {
    left: f64,
    top: f64,
    width: f64,
    height: f64,
}

impl Plot {
    fn right(self) -> f64 {
        self.left + self.width
    }

    fn bottom(self) -> f64 {
        self.top + self.height
    }

    /// The y of a fraction of the height (0 at the bottom).
    fn y(self, fraction: f64) -> f64 {
        self.bottom() - fraction * self.height
    }

    /// The x of a fraction of the width.
    fn x(self, fraction: f64) -> f64 {
        self.left + fraction * self.width
    }
}

// --- chart 1: volume and service level by hour ------------------------------------------

const HOURS: usize = 24;

/// The figures of each hour 00..23, `None` where nothing was offered.
fn hour_slots(by_hour: &Report) -> [Option<&Figures>; HOURS] {
    let mut slots = [None; HOURS];
    for f in &by_hour.groups {
        if let Ok(hour) = f.group.parse::<usize>()
            && hour < HOURS
            && f.offered > 0
        {
            slots[hour] = Some(f);
        }
    }
    slots
}

fn hour_legend(by_hour: &Report) -> String {
    legend(&[
        legend_item("offered", "Offered (engagements)"),
        legend_item("abandoned", "of which abandoned"),
        legend_item(
            "sl",
            &format!(
                "Service level: answered within {} s (right axis)",
                by_hour.sla_seconds
            ),
        ),
        legend_item("reference", "Service level over the whole range"),
    ])
}

fn hour_chart(by_hour: &Report) -> String {
    const WIDTH: f64 = 1000.0;
    const HEIGHT: f64 = 380.0;
    let plot = Plot {
        left: 64.0,
        top: 24.0,
        width: WIDTH - 64.0 - 72.0,
        height: HEIGHT - 24.0 - 64.0,
    };
    let slots = hour_slots(by_hour);
    let busiest = slots
        .iter()
        .enumerate()
        .filter_map(|(h, f)| f.map(|f| (h, f)))
        .max_by_key(|(h, f)| (f.offered, std::cmp::Reverse(*h)));
    let counts = Scale::counts(busiest.map_or(0, |(_, f)| f.offered));
    let rates = Scale::rate();

    let desc = match busiest {
        None => "No engagements were offered in this range; the axes are empty.".to_owned(),
        Some((hour, f)) => format!(
            "Engagements offered in each hour (UTC) from 00 to 23, the abandoned part of each \
             bar marked, and the share answered within {} s as a line on a 0 to 100 percent \
             axis. Busiest hour {hour:02}:00 with {} offered; service level over the range {}.",
            by_hour.sla_seconds,
            f.offered,
            percent(by_hour.total.service_level)
        ),
    };
    let mut svg = Svg::new(
        "chart-hours",
        WIDTH,
        HEIGHT,
        "Volume and service level by hour",
        &desc,
    );
    hour_axes(&mut svg, plot, counts, rates, by_hour.sla_seconds);
    hour_bars(&mut svg, plot, counts, &slots);
    if busiest.is_some() {
        service_level_line(&mut svg, plot, rates, &slots);
        reference_line(&mut svg, plot, rates, by_hour.total.service_level);
    }
    svg.finish()
}

/// The x of the middle of an hour's slot.
fn hour_x(plot: Plot, hour: usize) -> f64 {
    plot.x((hour as f64 + 0.5) / HOURS as f64)
}

fn hour_axes(svg: &mut Svg, plot: Plot, counts: Scale, rates: Scale, sla_seconds: u32) {
    for (value, rate) in counts.ticks().zip(rates.ticks()) {
        let y = plot.y(counts.at(value));
        svg.line("grid", (plot.left, y), (plot.right(), y));
        svg.text(
            "tick",
            (plot.left - 8.0, y + 4.0),
            Anchor::End,
            &count(value as u64),
        );
        svg.text(
            "tick sl-tick",
            (plot.right() + 8.0, y + 4.0),
            Anchor::Start,
            &format!("{:.0}%", rate * 100.0),
        );
    }
    svg.line(
        "axis",
        (plot.left, plot.bottom()),
        (plot.right(), plot.bottom()),
    );
    for hour in 0..HOURS {
        let x = hour_x(plot, hour);
        svg.line("axis", (x, plot.bottom()), (x, plot.bottom() + 4.0));
        svg.text(
            "tick hour-label",
            (x, plot.bottom() + 18.0),
            Anchor::Middle,
            &format!("{hour:02}"),
        );
    }
    svg.text(
        "axis-title",
        (plot.x(0.5), plot.bottom() + 44.0),
        Anchor::Middle,
        "Hour of day (UTC)",
    );
    svg.vertical_text(
        "axis-title",
        (plot.left - 48.0, plot.y(0.5)),
        "Engagements offered",
    );
    svg.vertical_text(
        "axis-title",
        (plot.right() + 60.0, plot.y(0.5)),
        &format!("Service level (answered ≤ {sla_seconds} s)"),
    );
}

fn hour_bars(svg: &mut Svg, plot: Plot, counts: Scale, slots: &[Option<&Figures>; HOURS]) {
    let slot = plot.width / HOURS as f64;
    let width = slot * 0.64;
    for (hour, f) in slots.iter().enumerate() {
        let Some(f) = f else { continue };
        let x = hour_x(plot, hour) - width / 2.0;
        let top = plot.y(counts.at(f.offered as f64));
        let tip = format!(
            "{hour:02}:00–{hour:02}:59 UTC: {} offered, {} answered, {} abandoned ({}), \
             service level {}",
            count(f.offered),
            count(f.answered),
            count(f.abandoned),
            percent(f.abandon_rate),
            percent(f.service_level)
        );
        svg.rect(
            "bar offered",
            x,
            top,
            width,
            plot.bottom() - top,
            Some(&tip),
        );
        if f.abandoned > 0 {
            let h = plot.height * counts.at(f.abandoned as f64);
            svg.rect("bar abandoned", x, top, width, h, Some(&tip));
        }
        svg.text(
            "bar-value",
            (hour_x(plot, hour), top - 5.0),
            Anchor::Middle,
            &count(f.offered),
        );
    }
}

fn service_level_line(svg: &mut Svg, plot: Plot, rates: Scale, slots: &[Option<&Figures>; HOURS]) {
    let point = |hour: usize, f: &Figures| (hour_x(plot, hour), plot.y(rates.at(f.service_level)));
    // One run of points per stretch of hours with engagements: no line across an empty hour.
    let points: Vec<Option<(f64, f64)>> = slots
        .iter()
        .enumerate()
        .map(|(hour, f)| f.map(|f| point(hour, f)))
        .collect();
    let runs: Vec<Vec<(f64, f64)>> = points
        .split(Option::is_none)
        .filter(|run| !run.is_empty())
        .map(|run| run.iter().flatten().copied().collect())
        .collect();
    svg.path("sl-halo", &runs);
    svg.path("sl-line", &runs);
    for (hour, f) in slots.iter().enumerate() {
        if let Some(f) = f {
            let tip = format!(
                "{hour:02}:00 UTC: service level {} ({} of {} answered within the threshold)",
                percent(f.service_level),
                count(f.answered_within_sla),
                count(f.offered)
            );
            svg.circle("sl-point", point(hour, f), 4.0, Some(&tip));
        }
    }
}

/// A dashed line at the service level of the whole range, labelled inside the plot.
fn reference_line(svg: &mut Svg, plot: Plot, rates: Scale, rate: f64) {
    let y = plot.y(rates.at(rate));
    svg.line("reference", (plot.left, y), (plot.right(), y));
    let above = if rate > 0.9 { y + 14.0 } else { y - 6.0 };
    svg.text(
        "reference-label",
        (plot.right() - 4.0, above),
        Anchor::End,
        &format!("range {}", percent(rate)),
    );
}

// --- chart 2: handle time by queue ------------------------------------------------------

fn handle_legend() -> String {
    legend(&[
        legend_item("talk", "Talk"),
        legend_item("hold", "Hold"),
        legend_item("wrap", "Wrap-up"),
        legend_item("p90", "90th percentile handle time"),
    ])
}

/// A queue's means in seconds: talk, hold, wrap-up.
fn parts(f: &Figures) -> [(&'static str, &'static str, f64); 3] {
    let s = |ms: Option<i64>| ms.unwrap_or(0) as f64 / 1000.0;
    [
        ("talk", "talk", s(f.average_talk_ms)),
        ("hold", "hold", s(f.average_hold_ms)),
        ("wrap", "wrap-up", s(f.average_wrap_up_ms)),
    ]
}

fn handle_chart(by_queue: &Report) -> String {
    const WIDTH: f64 = 1000.0;
    const ROW: f64 = 36.0;
    const BAR: f64 = 20.0;
    let mut queues: Vec<&Figures> = by_queue.groups.iter().collect();
    // Longest handle time first; queues with no answered engagement last.
    queues.sort_by(|a, b| {
        b.average_handle_ms
            .cmp(&a.average_handle_ms)
            .then_with(|| label(a).cmp(label(b)))
    });
    let rows = queues.len().max(1) as f64;
    let plot = Plot {
        left: 220.0,
        top: 30.0,
        width: 560.0,
        height: rows * ROW,
    };
    let height = plot.bottom() + 56.0;
    let longest = queues
        .iter()
        .map(|f| {
            let stacked: f64 = parts(f).iter().map(|p| p.2).sum();
            stacked.max(f.p90_handle_ms.unwrap_or(0) as f64 / 1000.0)
        })
        .fold(0.0, f64::max);
    let scale = Scale::seconds(longest);

    let desc = match queues.first().filter(|f| f.average_handle_ms.is_some()) {
        None => "No answered engagements in this range; the axes are empty.".to_owned(),
        Some(f) => format!(
            "Mean talk, hold and wrap-up time per answered engagement, stacked, for {} queues, \
             with the average and 90th percentile handle time of each. Longest average handle \
             time: {}, {}.",
            queues.len(),
            label(f),
            duration(f.average_handle_ms)
        ),
    };
    let mut svg = Svg::new("chart-queues", WIDTH, height, "Handle time by queue", &desc);
    handle_axes(&mut svg, plot, scale);
    let columns = [870.0, 970.0];
    svg.text(
        "column-title",
        (columns[0], plot.top - 12.0),
        Anchor::End,
        "AHT",
    );
    svg.text(
        "column-title",
        (columns[1], plot.top - 12.0),
        Anchor::End,
        "p90",
    );
    if queues.is_empty() {
        svg.text(
            "empty",
            (plot.x(0.5), plot.top + ROW / 2.0 + 5.0),
            Anchor::Middle,
            "No answered engagements",
        );
    }
    for (i, f) in queues.iter().enumerate() {
        let middle = plot.top + (i as f64 + 0.5) * ROW;
        queue_row(&mut svg, plot, scale, f, middle, BAR);
        svg.text(
            "value aht",
            (columns[0], middle + 4.0),
            Anchor::End,
            &duration(f.average_handle_ms),
        );
        svg.text(
            "value p90",
            (columns[1], middle + 4.0),
            Anchor::End,
            &duration(f.p90_handle_ms),
        );
    }
    svg.finish()
}

fn handle_axes(svg: &mut Svg, plot: Plot, scale: Scale) {
    for value in scale.ticks() {
        let x = plot.x(scale.at(value));
        svg.line("grid", (x, plot.top), (x, plot.bottom()));
        svg.text(
            "tick",
            (x, plot.bottom() + 18.0),
            Anchor::Middle,
            &seconds_tick(value, scale.step),
        );
    }
    svg.line("axis", (plot.left, plot.top), (plot.left, plot.bottom()));
    svg.text(
        "axis-title",
        (plot.x(0.5), plot.bottom() + 44.0),
        Anchor::Middle,
        "Mean time per answered engagement",
    );
}

/// One queue: its name, its stacked means, and its p90 mark.
fn queue_row(svg: &mut Svg, plot: Plot, scale: Scale, f: &Figures, middle: f64, bar: f64) {
    let name = label(f);
    let tip = if f.name.as_deref().is_some_and(|n| n != f.group) {
        format!("{name} ({})", f.group)
    } else {
        name.to_owned()
    };
    svg.text_with_tip(
        "queue-label",
        (plot.left - 10.0, middle + 4.0),
        Anchor::End,
        &shorten(name, 30),
        Some(&tip),
    );
    if f.average_handle_ms.is_none() {
        svg.text(
            "muted",
            (plot.left + 8.0, middle + 4.0),
            Anchor::Start,
            "no answered engagements",
        );
        return;
    }
    let mut x = plot.left;
    for (class, what, value) in parts(f) {
        let w = plot.width * scale.at(value);
        if w > 0.0 {
            let tip = format!(
                "{name}: mean {what} {} of AHT {} ({} answered)",
                duration(Some((value * 1000.0) as i64)),
                duration(f.average_handle_ms),
                count(f.answered)
            );
            svg.rect(
                &format!("seg {class}"),
                x,
                middle - bar / 2.0,
                w,
                bar,
                Some(&tip),
            );
        }
        x += w;
    }
    if let Some(p90) = f.p90_handle_ms {
        let px = plot.x(scale.at(p90 as f64 / 1000.0));
        if px > x {
            svg.line("p90-whisker", (x, middle), (px, middle));
        }
        svg.line(
            "p90-mark",
            (px, middle - bar / 2.0 - 5.0),
            (px, middle + bar / 2.0 + 5.0),
        );
    }
}

// ---------------------------------------------------------------------------------------
// The table.

fn table_section(report: &Report) -> String {
    let by = report.by.as_str();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<section id=\"table\" aria-labelledby=\"table-h\">\n<h2 id=\"table-h\">By {by}</h2>"
    );
    out.push_str("<div class=\"table-wrap\">\n<table>\n<thead><tr>");
    for heading in headings(report) {
        let _ = write!(out, "<th scope=\"col\">{heading}</th>");
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    if report.groups.is_empty() {
        let _ = writeln!(
            out,
            "<tr><td class=\"empty\" colspan=\"16\">No ended engagements in this range.</td></tr>"
        );
    }
    for f in &report.groups {
        out.push_str(&table_row(f, &f.group));
    }
    out.push_str("</tbody>\n<tfoot>\n");
    out.push_str(&table_row(&report.total, "All"));
    out.push_str("</tfoot>\n</table>\n</div>\n</section>\n");
    out
}

/// The table's column headings, as HTML (abbreviations spelled out in `title`).
fn headings(report: &Report) -> Vec<String> {
    let abbr = |short: &str, long: &str| format!("<abbr title=\"{long}\">{short}</abbr>");
    let mut by = report.by.as_str().to_owned();
    by[..1].make_ascii_uppercase();
    vec![
        by,
        "Name".into(),
        "Offered".into(),
        "Answered".into(),
        "Abandoned".into(),
        "Abandon rate".into(),
        format!("Answered ≤\u{a0}{}\u{a0}s", report.sla_seconds),
        "Service level".into(),
        format!("{} (s)", abbr("ASA", "average speed of answer")),
        format!("{} (s)", abbr("AHT", "average handle time")),
        format!("{} (s)", abbr("p90 HT", "90th percentile handle time")),
        "Talk (s)".into(),
        "Hold (s)".into(),
        "Wrap-up (s)".into(),
        "Transfers".into(),
        "Holds".into(),
    ]
}

fn table_row(f: &Figures, group: &str) -> String {
    let cells = [
        escape(group),
        escape(f.name.as_deref().unwrap_or("–")),
        count(f.offered),
        count(f.answered),
        count(f.abandoned),
        percent(f.abandon_rate),
        count(f.answered_within_sla),
        percent(f.service_level),
        seconds(f.average_speed_of_answer_ms),
        seconds(f.average_handle_ms),
        seconds(f.p90_handle_ms),
        seconds(f.average_talk_ms),
        seconds(f.average_hold_ms),
        seconds(f.average_wrap_up_ms),
        count(f.transfers),
        count(f.holds),
    ];
    let mut out = String::from("<tr>");
    for (i, text) in cells.iter().enumerate() {
        if i == 0 {
            let _ = write!(out, "<th scope=\"row\">{text}</th>");
        } else {
            let _ = write!(out, "<td>{text}</td>");
        }
    }
    out.push_str("</tr>\n");
    out
}

// ---------------------------------------------------------------------------------------
// The style: system fonts, tabular figures, colours from the Okabe–Ito palette (told apart
// with colour-blindness), each at least 3:1 against white; text at least 7:1.

const STYLE: &str = include_str!("page.css");

#[cfg(test)]
mod tests {
    use super::*;
    use zcc_domain::report::GroupBy;
    use zcc_domain::time_range::TimeRange;
    use zcc_domain::timestamp::Timestamp;

    /// A report of `groups` (built through `report::report`, so that fields added there
    /// need nothing here).
    fn report(by: GroupBy, groups: Vec<Figures>) -> Report {
        let range = TimeRange {
            from: Timestamp::parse("2026-12-01T00:00:00.000Z").unwrap(),
            to: Timestamp::parse("2026-12-01T23:59:59.999Z").unwrap(),
        };
        let mut report = super::super::report(&[], range, by, 20);
        report.total.offered = groups.iter().map(|f| f.offered).sum();
        report.engagements = report.total.offered as usize;
        report.groups = groups;
        report
    }

    fn queue(id: &str, name: &str) -> Figures {
        Figures {
            group: id.into(),
            name: Some(name.into()),
            offered: 3,
            answered: 2,
            abandoned: 1,
            abandon_rate: 0.3333,
            answered_within_sla: 1,
            service_level: 0.3333,
            average_speed_of_answer_ms: Some(12_000),
            average_handle_ms: Some(240_000),
            p90_handle_ms: Some(300_000),
            average_talk_ms: Some(200_000),
            average_hold_ms: Some(10_000),
            average_wrap_up_ms: Some(30_000),
            ..Figures::default()
        }
    }

    fn hour(h: &str, offered: u64) -> Figures {
        Figures {
            group: h.into(),
            offered,
            ..Figures::default()
        }
    }

    #[test]
    fn names_from_the_data_are_escaped() {
        let evil = "<script>&\"";
        let by_queue = report(GroupBy::Queue, vec![queue("q-1", evil)]);
        let page = render(&by_queue, &report(GroupBy::Hour, vec![]), &by_queue);
        assert!(!page.contains(evil));
        assert!(!page.contains("<script"), "no script element at all");
        assert!(page.contains("&lt;script&gt;&amp;&quot;"));
        assert_eq!(escape("a'b"), "a&#39;b");
    }

    #[test]
    fn the_hour_chart_has_all_24_hours() {
        let by_hour = report(GroupBy::Hour, vec![hour("09", 5), hour("17", 2)]);
        let page = render(&by_hour, &by_hour, &report(GroupBy::Queue, vec![]));
        assert_eq!(page.matches("class=\"tick hour-label\"").count(), 24);
        for h in ["00", "09", "23"] {
            assert!(
                page.contains(&format!("text-anchor=\"middle\">{h}</text>")),
                "{h}"
            );
        }
        assert_eq!(page.matches("class=\"bar offered\"").count(), 2);
        assert_eq!(page.matches("class=\"sl-point\"").count(), 2);
        let line = page.split("class=\"sl-line\" d=\"").nth(1).unwrap();
        let line = &line[..line.find('"').unwrap()];
        assert_eq!(
            line.matches('M').count(),
            2,
            "no line across empty hours: {line}"
        );
    }

    #[test]
    fn an_empty_report_renders_with_empty_axes() {
        let empty = report(GroupBy::Queue, vec![]);
        let page = render(&empty, &report(GroupBy::Hour, vec![]), &empty);
        assert!(page.contains("No ended engagements in this range"));
        assert_eq!(page.matches("<svg ").count(), 2);
        assert_eq!(page.matches("role=\"img\"").count(), 2);
        assert_eq!(page.matches("class=\"tick hour-label\"").count(), 24);
        assert_eq!(page.matches("class=\"bar ").count(), 0);
        assert!(page.contains("No answered engagements"));
        assert!(page.ends_with("</html>\n"));
    }

    #[test]
    fn numbers_read_as_people_write_them() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(percent(0.8333), "83.3%");
        assert_eq!(seconds(Some(12_345)), "12.3");
        assert_eq!(seconds(None), "–");
        assert_eq!(duration(Some(18_400)), "18 s");
        assert_eq!(duration(Some(245_000)), "4 m 05 s");
        assert_eq!(duration(Some(3_720_000)), "1 h 02 m");
    }

    #[test]
    fn scales_are_nice() {
        assert_eq!(
            Scale::counts(0),
            Scale {
                top: 4.0,
                step: 1.0
            }
        );
        assert_eq!(
            Scale::counts(42),
            Scale {
                top: 60.0,
                step: 15.0
            }
        );
        assert_eq!(
            Scale::counts(12),
            Scale {
                top: 12.0,
                step: 3.0
            }
        );
        assert_eq!(
            Scale::seconds(0.0),
            Scale {
                top: 60.0,
                step: 10.0
            }
        );
        assert_eq!(
            Scale::seconds(500.0),
            Scale {
                top: 600.0,
                step: 120.0
            }
        );
        assert_eq!(Scale::counts(42).ticks().count(), 5);
    }
}
