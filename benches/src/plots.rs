//! PNG plots of a run (plotters, bitmap backend, with a bundled DejaVu Sans so that no system
//! font is needed): relative accuracy with intervals, example surprise curves, training losses.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Once;

use moravec_sim::voe::{Kind, Property};
use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::error::{HarnessError, Result};
use crate::report::{Aggregation, Subset, VoeRow};
use moravec_sim::voe::Suite;

static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

fn font() {
    REGISTER.call_once(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, FONT)
            .map_err(|_| ())
            .expect("the bundled font parses");
    });
}

/// The span of the finite values with 5% room either side (a unit span around a lone value, or
/// `0..1` when there is none), for a panel's y axis.
fn padded_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if !lo.is_finite() {
        (0.0, 1.0)
    } else if hi > lo {
        (lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo))
    } else {
        (lo - 0.5, lo + 0.5)
    }
}

fn plot_error(path: &Path, e: impl std::fmt::Display) -> HarnessError {
    HarnessError::Schema {
        path: path.to_owned(),
        message: format!("cannot draw: {e}"),
    }
}

/// One property's example: the first set's possible movie and an impossible one.
#[derive(Clone, Debug)]
pub struct Example {
    /// The property.
    pub property: Property,
    /// Its set's kind.
    pub kind: Kind,
    /// The set's violation frame.
    pub violation_frame: usize,
    /// (first target frame, surprise) of the possible movie (A).
    pub possible: Vec<(usize, f64)>,
    /// The impossible movie's (C for a quadruplet: A up to the splice, then B).
    pub impossible: Vec<(usize, f64)>,
}

/// The examples of every property from one scorer's curves.
pub fn examples(
    suite: &Suite,
    curves: &BTreeMap<Property, Vec<Vec<(usize, f64)>>>,
) -> Vec<Example> {
    let mut out = Vec::new();
    for p in &suite.meta.properties {
        let rows: Vec<_> = suite
            .rows
            .iter()
            .filter(|r| r.property == p.property)
            .collect();
        let Some(first) = rows.first() else { continue };
        let set: Vec<_> = rows.iter().filter(|r| r.set_id == first.set_id).collect();
        let possible = set.iter().find(|r| r.possible);
        let impossible = set.iter().find(|r| !r.possible);
        let (Some(a), Some(c), Some(cs)) = (possible, impossible, curves.get(&p.property)) else {
            continue;
        };
        out.push(Example {
            property: p.property,
            kind: first.kind,
            violation_frame: first.violation_frame,
            possible: cs.get(a.episode).cloned().unwrap_or_default(),
            impossible: cs.get(c.episode).cloned().unwrap_or_default(),
        });
    }
    out
}

/// Relative accuracy (mean aggregation, every set) per property and condition, a point and
/// interval per model, chance marked.
pub fn relative_accuracy(path: &Path, rows: &[VoeRow]) -> Result<()> {
    let points: Vec<(String, String, [f64; 3])> = rows
        .iter()
        .filter(|r| {
            r.metric == "relative_accuracy"
                && r.aggregation == Aggregation::Mean
                && r.subset == Subset::All
        })
        .map(|r| {
            (
                format!("{} / {}", r.property, r.condition),
                r.model.clone(),
                [r.ci_low, r.value, r.ci_high],
            )
        })
        .collect();
    interval_chart(
        path,
        "Relative accuracy (mean surprise; 95% bootstrap CI)",
        "share of sets where the impossible movies are more surprising",
        230,
        Some(0.5),
        &points,
    )
}

/// Points with horizontal intervals on `[0, 1]`: one row per category (in order of first
/// appearance, the first at the top), one colour per series. `points` are (category, series,
/// [low, value, high]); `mark` draws a vertical line (chance).
fn interval_chart(
    path: &Path,
    title: &str,
    x_desc: &str,
    label_width: u32,
    mark: Option<f64>,
    points: &[(String, String, [f64; 3])],
) -> Result<()> {
    font();
    let mut cells: Vec<&str> = Vec::new();
    let mut series: Vec<&str> = Vec::new();
    for (c, m, _) in points {
        if !cells.contains(&c.as_str()) {
            cells.push(c);
        }
        if !series.contains(&m.as_str()) {
            series.push(m);
        }
    }
    // Room for every row and for the legend (drawn inside the plot).
    let height = 140 + (36 * cells.len()).max(22 * series.len()) as u32;
    let root = BitMapBackend::new(path, (900, height)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| plot_error(path, e))?;
    let n = cells.len().max(1) as f64;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(label_width)
        .build_cartesian_2d(0f64..1f64, -0.5f64..n - 0.5)
        .map_err(|e| plot_error(path, e))?;
    let labels = cells.clone();
    chart
        .configure_mesh()
        .y_labels(cells.len() * 2 + 1)
        .y_label_formatter(&|y| {
            let i = y.round();
            if (y - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < labels.len() {
                // Row 0 is drawn at the top.
                labels[labels.len() - 1 - i as usize].to_owned()
            } else {
                String::new()
            }
        })
        .x_labels(11)
        .light_line_style(WHITE)
        .x_desc(x_desc)
        .label_style(("sans-serif", 13))
        .draw()
        .map_err(|e| plot_error(path, e))?;
    if let Some(x) = mark {
        chart
            .draw_series(LineSeries::new(
                [(x, -0.5), (x, n - 0.5)],
                BLACK.mix(0.4).stroke_width(1),
            ))
            .map_err(|e| plot_error(path, e))?;
    }
    let m = series.len().max(1) as f64;
    for (k, name) in series.iter().enumerate() {
        let color = Palette99::pick(k).to_rgba();
        let offset = (k as f64 - (m - 1.0) / 2.0) * 0.6 / m;
        let pts: Vec<(f64, [f64; 3])> = points
            .iter()
            .filter(|p| p.1 == *name)
            .filter_map(|p| {
                let row = cells.iter().position(|c| *c == p.0)?;
                Some(((cells.len() - 1 - row) as f64 - offset, p.2))
            })
            .collect();
        chart
            .draw_series(pts.iter().map(|&(y, [lo, v, hi])| {
                ErrorBar::new_horizontal(y, lo, v, hi, color.stroke_width(2), 6)
            }))
            .map_err(|e| plot_error(path, e))?;
        chart
            .draw_series(
                pts.iter()
                    .map(|&(y, [_, v, _])| Circle::new((v, y), 4, color.filled())),
            )
            .map_err(|e| plot_error(path, e))?
            .label(*name)
            .legend(move |(x, y)| Circle::new((x + 8, y), 4, color.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 13))
        .draw()
        .map_err(|e| plot_error(path, e))?;
    root.present().map_err(|e| plot_error(path, e))
}

/// A grid of panels, one per property: a possible and an impossible movie's surprise curves,
/// the violation frame marked.
pub fn surprise_curves(path: &Path, model: &str, examples: &[Example]) -> Result<()> {
    font();
    let cols = 3usize;
    let rows = examples.len().div_ceil(cols).max(1);
    let root = BitMapBackend::new(path, (1200, 40 + 300 * rows as u32)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| plot_error(path, e))?;
    let root = root
        .titled(
            &format!("{model}: surprise per window (green possible, red impossible)"),
            ("sans-serif", 20),
        )
        .map_err(|e| plot_error(path, e))?;
    let panels = root.split_evenly((rows, cols));
    for (ex, panel) in examples.iter().zip(panels.iter()) {
        let xs = ex.possible.iter().chain(&ex.impossible).map(|p| p.0);
        let x_max = xs.max().unwrap_or(1).max(ex.violation_frame) as f64 + 1.0;
        let (lo, hi) = padded_range(ex.possible.iter().chain(&ex.impossible).map(|p| p.1));
        let caption = format!("{} ({})", ex.property, ex.kind.as_str());
        let x_desc = "first predicted frame";
        let mut chart = curve_panel(panel, path, &caption, x_desc, x_max, (lo, hi))?;
        let v = ex.violation_frame as f64;
        chart
            .draw_series(LineSeries::new(
                [(v, lo), (v, hi)],
                BLACK.mix(0.5).stroke_width(1),
            ))
            .map_err(|e| plot_error(path, e))?;
        for (curve, color) in [(&ex.possible, GREEN), (&ex.impossible, RED)] {
            chart
                .draw_series(LineSeries::new(
                    curve.iter().map(|&(f, s)| (f as f64, s)),
                    color.stroke_width(2),
                ))
                .map_err(|e| plot_error(path, e))?;
        }
    }
    root.present().map_err(|e| plot_error(path, e))
}

/// A panel's axes for curves: x from 0 to `x_max` (whole numbers), y over `y`, mesh drawn.
fn curve_panel<'a, 'b>(
    panel: &'a DrawingArea<BitMapBackend<'b>, plotters::coord::Shift>,
    path: &Path,
    caption: &str,
    x_desc: &str,
    x_max: f64,
    y: (f64, f64),
) -> Result<
    ChartContext<
        'a,
        BitMapBackend<'b>,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
> {
    let mut chart = ChartBuilder::on(panel)
        .caption(caption, ("sans-serif", 15))
        .margin(8)
        .x_label_area_size(28)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..x_max, y.0..y.1)
        .map_err(|e| plot_error(path, e))?;
    chart
        .configure_mesh()
        .light_line_style(WHITE)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .x_desc(x_desc)
        .label_style(("sans-serif", 11))
        .draw()
        .map_err(|e| plot_error(path, e))?;
    Ok(chart)
}

/// Total training loss against step, one panel per model (their losses have different scales).
pub fn training(path: &Path, losses: &[(String, Vec<(u64, f64)>)]) -> Result<()> {
    font();
    let losses: Vec<_> = losses.iter().filter(|l| !l.1.is_empty()).collect();
    let cols = 2usize;
    let rows = losses.len().div_ceil(cols).max(1);
    let root = BitMapBackend::new(path, (1000, 40 + 280 * rows as u32)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| plot_error(path, e))?;
    let root = root
        .titled("Training loss (total)", ("sans-serif", 20))
        .map_err(|e| plot_error(path, e))?;
    let panels = root.split_evenly((rows, cols));
    for (k, ((model, curve), panel)) in losses
        .iter()
        .map(|l| (&l.0, &l.1))
        .zip(panels.iter())
        .enumerate()
    {
        let x_max = curve.last().map_or(1, |c| c.0 + 1) as f64;
        let (lo, hi) = padded_range(curve.iter().map(|c| c.1));
        let mut chart = curve_panel(panel, path, model, "step", x_max, (lo, hi))?;
        chart
            .draw_series(LineSeries::new(
                curve.iter().map(|&(s, v)| (s as f64, v)),
                Palette99::pick(k).stroke_width(2),
            ))
            .map_err(|e| plot_error(path, e))?;
    }
    root.present().map_err(|e| plot_error(path, e))
}

/// Planning success rate per task, a point and Wilson interval per model and planner.
pub fn success_rates(path: &Path, rows: &[crate::planning::PlanRow]) -> Result<()> {
    let points: Vec<(String, String, [f64; 3])> = rows
        .iter()
        .map(|r| {
            (
                r.task.clone(),
                format!("{} / {}", r.model, r.planner),
                [r.ci_low, r.success_rate, r.ci_high],
            )
        })
        .collect();
    interval_chart(
        path,
        "Planning success (95% Wilson interval)",
        "share of episodes solved",
        130,
        None,
        &points,
    )
}

/// Probe R² per scene and variable, a point per model (the mean over training seeds, the
/// interval their lowest and highest), the raw-pixel floor among them. R² below 0 is drawn at 0.
pub fn probes(path: &Path, probed: &[crate::stages::probe::Probed]) -> Result<()> {
    let mut cells: BTreeMap<(String, String), Vec<f64>> = BTreeMap::new();
    let mut order: Vec<(String, String)> = Vec::new();
    for p in probed {
        for r in &p.rows {
            let cell = (format!("{} / {}", r.scene, r.variable), p.name.clone());
            if !cells.contains_key(&cell) {
                order.push(cell.clone());
            }
            cells.entry(cell).or_default().push(r.r2);
        }
    }
    let clamp = |v: f64| {
        if v.is_finite() {
            v.clamp(0.0, 1.0)
        } else {
            0.0
        }
    };
    let points: Vec<(String, String, [f64; 3])> = order
        .into_iter()
        .map(|cell| {
            let vs = &cells[&cell];
            let lo = vs.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = vs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let mean = vs.iter().sum::<f64>() / vs.len() as f64;
            (cell.0, cell.1, [clamp(lo), clamp(mean), clamp(hi)])
        })
        .collect();
    interval_chart(
        path,
        "State probe R² on held-out episodes (mean over seeds; bar: lowest to highest)",
        "R² of a ridge readout of the bodies' state from frozen features",
        200,
        None,
        &points,
    )
}

/// The learning curves: per model, the mean decidable relative accuracy of IntPhys's occluded
/// cells and the mean position R² over scenes, against training step.
pub fn learning_curves(path: &Path, rows: &[crate::results::write::CurveRow]) -> Result<()> {
    font();
    let intphys = [
        Property::Permanence,
        Property::Continuity,
        Property::ShapeConstancy,
        Property::ColorConstancy,
    ]
    .map(|p| format!("{p}/decidable"));
    type Series = BTreeMap<String, BTreeMap<u64, Vec<f64>>>;
    let (mut voe, mut probe): (Series, Series) = Default::default();
    for r in rows.iter().filter(|r| r.value.is_finite()) {
        if r.metric == "relative_accuracy" && intphys.contains(&r.cell) {
            voe.entry(r.model.clone())
                .or_default()
                .entry(r.step)
                .or_default()
                .push(r.value);
        } else if r.metric == "probe_r2" && r.cell.ends_with("/position") {
            probe
                .entry(r.model.clone())
                .or_default()
                .entry(r.step)
                .or_default()
                .push(r.value);
        }
    }
    let x_max = rows.iter().map(|r| r.step).max().unwrap_or(1) as f64 * 1.02;
    let root = BitMapBackend::new(path, (1100, 420)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| plot_error(path, e))?;
    let root = root
        .titled("Learning curves (first training seed)", ("sans-serif", 20))
        .map_err(|e| plot_error(path, e))?;
    let panels = root.split_evenly((1, 2));
    for (panel, (caption, series, range)) in panels.iter().zip([
        (
            "relative accuracy, decidable occluded sets (mean of 4 IntPhys cells)",
            &voe,
            (0.0, 1.0),
        ),
        (
            "probe R² of position (mean over scenes)",
            &probe,
            (-0.1, 1.0),
        ),
    ]) {
        let mut chart = curve_panel(panel, path, caption, "step", x_max, range)?;
        if series.is_empty() {
            continue;
        }
        for (k, (model, points)) in series.iter().enumerate() {
            let color = Palette99::pick(k).to_rgba();
            let line: Vec<(f64, f64)> = points
                .iter()
                .map(|(&s, vs)| (s as f64, vs.iter().sum::<f64>() / vs.len() as f64))
                .collect();
            chart
                .draw_series(LineSeries::new(line.clone(), color.stroke_width(2)))
                .map_err(|e| plot_error(path, e))?
                .label(model.clone())
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 16, y)], color.stroke_width(2))
                });
            chart
                .draw_series(line.iter().map(|&p| Circle::new(p, 3, color.filled())))
                .map_err(|e| plot_error(path, e))?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(("sans-serif", 12))
            .draw()
            .map_err(|e| plot_error(path, e))?;
    }
    root.present().map_err(|e| plot_error(path, e))
}

/// The nuisance sweep against level: per model, the position probe's R² (mean over scenes),
/// decidable occluded permanence, and prediction error over copying the last frame (log
/// scale), each with its interval; a model has one colour in every panel.
pub fn nuisance(path: &Path, rows: &[crate::sweep::NuisanceRow]) -> Result<()> {
    font();
    let panels_spec = [
        (
            "probe_r2",
            "mean/position",
            "probe R² of position (mean over scenes)",
        ),
        (
            "relative_accuracy",
            "permanence/decidable",
            "relative accuracy, decidable occluded permanence",
        ),
        (
            "prediction_ratio",
            "mean",
            "prediction error / copy-last, held out (log scale)",
        ),
    ];
    let mut models: Vec<&str> = Vec::new();
    for r in rows {
        if !models.contains(&r.model.as_str()) {
            models.push(&r.model);
        }
    }
    let max_level = rows.iter().map(|r| r.level).max().unwrap_or(1);
    let x = -0.3..f64::from(max_level) + 0.3;
    let root = BitMapBackend::new(path, (1500, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| plot_error(path, e))?;
    let root = root
        .titled(
            "Nuisance: pixel detail that carries no physics, levels 0 to 3",
            ("sans-serif", 20),
        )
        .map_err(|e| plot_error(path, e))?;
    let panels = root.split_evenly((1, panels_spec.len()));
    for (panel, (metric, cell, caption)) in panels.iter().zip(panels_spec) {
        let log = metric == "prediction_ratio";
        // Values as drawn: the ratio on a log10 axis.
        let y = |v: f64| if log { v.max(1e-6).log10() } else { v };
        let mut series: BTreeMap<usize, Vec<&crate::sweep::NuisanceRow>> = BTreeMap::new();
        for r in rows.iter().filter(|r| r.metric == metric && r.cell == cell) {
            let k = models.iter().position(|m| *m == r.model).unwrap_or(0);
            series.entry(k).or_default().push(r);
        }
        let range = match metric {
            "relative_accuracy" => (0.0, 1.0),
            _ => padded_range(
                series
                    .values()
                    .flatten()
                    .flat_map(|r| [y(r.ci_low), y(r.value), y(r.ci_high)]),
            ),
        };
        let mut chart = ChartBuilder::on(panel)
            .caption(caption, ("sans-serif", 15))
            .margin(8)
            .x_label_area_size(30)
            .y_label_area_size(55)
            .build_cartesian_2d(x.clone(), range.0..range.1)
            .map_err(|e| plot_error(path, e))?;
        chart
            .configure_mesh()
            .light_line_style(WHITE)
            .x_labels(usize::from(max_level) + 1)
            .x_label_formatter(&|v| {
                if (v - v.round()).abs() < 1e-6 {
                    format!("{v:.0}")
                } else {
                    String::new()
                }
            })
            .y_label_formatter(&|v| {
                if log {
                    format!("{:.2}", 10f64.powf(*v))
                } else {
                    format!("{v:.2}")
                }
            })
            .x_desc("nuisance level")
            .label_style(("sans-serif", 11))
            .draw()
            .map_err(|e| plot_error(path, e))?;
        let mark = match metric {
            "relative_accuracy" => Some(0.5),
            "prediction_ratio" => Some(0.0),
            _ => None,
        };
        if let Some(m) = mark {
            chart
                .draw_series(LineSeries::new(
                    [(x.start, m), (x.end, m)],
                    BLACK.mix(0.4).stroke_width(1),
                ))
                .map_err(|e| plot_error(path, e))?;
        }
        let n = series.len() as f64;
        for (i, (&k, points)) in series.iter().enumerate() {
            let color = Palette99::pick(k).to_rgba();
            // Series side by side at each level, so that their intervals do not hide each
            // other.
            let dx = (i as f64 - n / 2.0) * 0.025;
            let line: Vec<(f64, f64)> = points
                .iter()
                .map(|r| (f64::from(r.level) + dx, y(r.value)))
                .collect();
            chart
                .draw_series(LineSeries::new(line.clone(), color.stroke_width(2)))
                .map_err(|e| plot_error(path, e))?
                .label(models[k])
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 16, y)], color.stroke_width(2))
                });
            chart
                .draw_series(points.iter().filter(|r| r.ci_low.is_finite()).map(|r| {
                    let px = f64::from(r.level) + dx;
                    PathElement::new(
                        [(px, y(r.ci_low)), (px, y(r.ci_high))],
                        color.stroke_width(1),
                    )
                }))
                .map_err(|e| plot_error(path, e))?;
            chart
                .draw_series(line.iter().map(|&p| Circle::new(p, 3, color.filled())))
                .map_err(|e| plot_error(path, e))?;
        }
        if series.is_empty() {
            continue;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerLeft)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .label_font(("sans-serif", 11))
            .draw()
            .map_err(|e| plot_error(path, e))?;
    }
    root.present().map_err(|e| plot_error(path, e))
}
