//! Charts of readings over a period: an SVG drawn on the server (no JavaScript needed) with the
//! same readings in a table beside it, and the usual range shaded.

use super::{load_problem, on_record, patient_param, ActingFor};
use crate::api::chart;
use domain::charts::{Period, Plot, HEIGHT, WIDTH};
use domain::views::ChartView;
use domain::ReadingKind;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

/// Which chart to see.
#[component]
pub fn ChartsPage() -> impl IntoView {
    let patient = patient_param();
    view! {
        <Title text="Charts"/>
        <ActingFor patient=patient.clone()/>
        <h1>"Charts"</h1>
        <p>"See how the readings change over time."</p>
        <ul class="kind-list">
            {ReadingKind::ALL.into_iter().map(|k| {
                let href = on_record(&format!("/record/charts/{}", k.slug()), &patient);
                view! { <li><a href=href>{k.label()}</a></li> }
            }).collect_view()}
        </ul>
        <p><a href=on_record("/record", &patient)>"Back to the record"</a></p>
    }
}

/// The drawing.
#[component]
fn Svg(plot: Plot, title: String, description: String) -> impl IntoView {
    let Plot { series, bands, y_ticks, x_ticks, left, right, top, bottom } = plot;
    let view_box = format!("0 0 {WIDTH} {HEIGHT}");
    view! {
        <svg class="chart" viewBox=view_box role="img" aria-labelledby="chart-title chart-desc" preserveAspectRatio="xMidYMid meet">
            <title id="chart-title">{title}</title>
            <desc id="chart-desc">{description}</desc>
            {bands.into_iter().map(|b| view! {
                <rect class="band" x=left y=b.y width=right - left height=b.height><title>{b.label}</title></rect>
            }).collect_view()}
            {y_ticks.into_iter().map(|t| view! {
                <line class="grid" x1=left x2=right y1=t.at y2=t.at/>
                <text class="tick" x=left - 6.0 y=t.at + 5.0 text-anchor=t.anchor>{t.text}</text>
            }).collect_view()}
            {x_ticks.into_iter().map(|t| view! {
                <text class="tick" x=t.at y=bottom + 24.0 text-anchor=t.anchor>{t.text}</text>
            }).collect_view()}
            <line class="axis" x1=left x2=left y1=top y2=bottom/>
            <line class="axis" x1=left x2=right y1=bottom y2=bottom/>
            {series.into_iter().enumerate().map(|(i, s)| {
                let class = format!("series s{i}");
                view! {
                    <g class=class>
                        <polyline points=s.points/>
                        // Diastolic gets squares, so the two lines differ by more than colour.
                        {s.dots.into_iter().map(|(x, y)| if i == 0 {
                            view! { <circle cx=x cy=y r="4"/> }.into_any()
                        } else {
                            view! { <rect x=x - 4.0 y=y - 4.0 width="8" height="8"/> }.into_any()
                        }).collect_view()}
                    </g>
                }
            }).collect_view()}
        </svg>
    }
}

fn value_cells(v: &ChartView, r: &domain::Reading) -> (String, Option<String>) {
    match (v.kind, r) {
        (ReadingKind::BloodPressure, domain::Reading::BloodPressure { systolic, diastolic, pulse }) => {
            (format!("{systolic}/{diastolic}"), Some(pulse.map(|p| p.to_string()).unwrap_or_default()))
        }
        _ => (r.display(), None),
    }
}

/// One kind of reading over a chosen period.
#[component]
pub fn ChartPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let kind = move || params.read().get("kind").unwrap_or_default();
    let period = move || query.read().get("period").unwrap_or_default();
    let patient = patient_param();
    let data = Resource::new(
        {
            let patient = patient.clone();
            move || (kind(), period(), patient.clone())
        },
        |(k, p, who)| chart(k, Some(p), who),
    );
    view! {
        <Suspense fallback=|| view! { <p>"Loading\u{2026}"</p> }>
            {move || Suspend::new(async move {
                let v = match data.await {
                    Ok(v) => v,
                    Err(e) => return load_problem(e, "Chart", format!("/record/charts/{}", kind())),
                };
                let heading = format!("{} chart", v.kind.label());
                let patient = patient_param();
                let periods = Period::ALL.into_iter().map(|p| {
                    let href = on_record(&format!("/record/charts/{}?period={}", v.kind.slug(), p.slug()), &patient);
                    let current = p == v.period;
                    view! { <li><a href=href aria-current=current.then_some("page")>{p.label()}</a></li> }
                }).collect_view();
                let bp = v.kind == ReadingKind::BloodPressure;
                let unit = v.kind.unit();
                let legend = if bp { "Blue circles and a solid line: systolic (top number). Orange squares and a dashed line: diastolic (bottom number). Shaded: the usual ranges." } else { "Shaded: the usual range, where there is one." };
                let description = format!("{} readings, {}. {}", v.readings.len(), v.period.label().to_lowercase(), legend);
                let height = v.height_cm;
                let rows = v.readings.iter().rev().map(|r| {
                    let (value, pulse) = value_cells(&v, &r.reading);
                    let href = on_record(&format!("/record/entries/{}", r.id), &patient);
                    view! {
                        <tr>
                            <td><a href=href><time datetime=r.occurred_at.to_uk_input()>{r.occurred_at.to_uk_string()}</time></a></td>
                            <td>{value}</td>
                            {pulse.map(|p| view! { <td>{p}</td> })}
                            {height.map(|h| view! { <td>{format!("{:.1}", domain::readings::bmi(r.reading.primary(), h))}</td> })}
                            <td>{if r.concerning { "Check this reading" } else { "" }}</td>
                        </tr>
                    }
                }).collect_view();
                let empty = v.readings.is_empty();
                let value_heading = if bp { "Blood pressure (mmHg)".to_owned() } else { format!("{} ({unit})", v.kind.label()) };
                view! {
                    <Title text=heading.clone()/>
                    <ActingFor patient=patient.clone()/>
                    <p><a href=on_record("/record/charts", &patient)>"All charts"</a></p>
                    <h1>{heading.clone()}</h1>
                    <nav aria-label="Period"><ul class="periods">{periods}</ul></nav>
                    {v.truncated.then(|| view! { <p class="inset">"There are too many readings in this period to draw them all: the newest 2,000 are shown."</p> })}
                    {if empty {
                        view! { <p>"No " {v.kind.label().to_lowercase()} " readings in this period. " <a href=on_record(&format!("/record/readings/new?kind={}", v.kind.slug()), &patient)>"Add a reading"</a></p> }.into_any()
                    } else {
                        view! {
                            <figure class="chart-figure">
                                <Svg plot=v.plot.clone() title=heading.clone() description=description/>
                                <figcaption>
                                    {legend}
                                    {v.plot.bands.iter().map(|b| view! { " " {b.label.clone()} "." }).collect_view()}
                                </figcaption>
                            </figure>
                            <div class="table-scroll">
                                <table>
                                    <caption>{format!("{} readings, newest first", v.kind.label())}</caption>
                                    <thead>
                                        <tr>
                                            <th scope="col">"Date and time"</th>
                                            <th scope="col">{value_heading}</th>
                                            {bp.then(|| view! { <th scope="col">"Pulse"</th> })}
                                            {height.map(|_| view! { <th scope="col">"BMI"</th> })}
                                            <th scope="col">"Note"</th>
                                        </tr>
                                    </thead>
                                    <tbody>{rows}</tbody>
                                </table>
                            </div>
                        }.into_any()
                    }}
                }.into_any()
            })}
        </Suspense>
    }
}
