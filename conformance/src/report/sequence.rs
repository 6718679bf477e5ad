//! A dial as a sequence diagram: four lanes (application, engine, modem, server) and one
//! arrow per event, top to bottom in virtual time. The events are typed first
//! ([`events`], from a run's [`Record`]), then drawn ([`svg`]) as one self-contained SVG:
//! an embedded style sheet, generic font families, no scripts, no links.

use std::fmt::Write as _;
use std::time::Duration;

use ras_engine::ras::RasError;

use super::escape;
use super::timeline::Happening;
use crate::run::Record;

/// A participant of the dial, one vertical lane each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// The program calling the RAS API, and its notifier.
    Application,
    /// The RAS engine: the connection machine, the Hayes dialer, the PPP client.
    Engine,
    /// The (simulated) modem on the serial port.
    Modem,
    /// The far end: the PPP/RAS server behind the phone network.
    Server,
}

impl Lane {
    /// Left to right.
    pub const ALL: [Lane; 4] = [Lane::Application, Lane::Engine, Lane::Modem, Lane::Server];

    /// The lane's heading and its `data-lane` name.
    pub fn name(self) -> &'static str {
        match self {
            Lane::Application => "application",
            Lane::Engine => "engine",
            Lane::Modem => "modem",
            Lane::Server => "server",
        }
    }

    fn column(self) -> u32 {
        match self {
            Lane::Application => 0,
            Lane::Engine => 1,
            Lane::Modem => 2,
            Lane::Server => 3,
        }
    }
}

/// What an arrow stands for; its CSS class and colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A RAS API call: `RasDial`, a resume, `RasHangUp`.
    Call,
    /// A notifier call entering a state.
    Notify,
    /// A notifier call entering a paused state (the dial waits for a resume).
    Pause,
    /// A notifier call reporting an error.
    Failure,
    /// An AT command line to the modem.
    Command,
    /// A modem result code.
    Result,
    /// A PPP packet (LCP, authentication, NCP, …), summarised.
    Packet,
}

impl Kind {
    /// The CSS class.
    pub fn class(self) -> &'static str {
        match self {
            Kind::Call => "call",
            Kind::Notify => "notify",
            Kind::Pause => "pause",
            Kind::Failure => "failure",
            Kind::Command => "command",
            Kind::Result => "result",
            Kind::Packet => "packet",
        }
    }
}

/// One arrow of the diagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Virtual time since the run's clock started.
    pub at: Duration,
    /// Where the arrow starts.
    pub from: Lane,
    /// Where it points.
    pub to: Lane,
    /// What it is.
    pub kind: Kind,
    /// Its text.
    pub label: String,
    /// The full story, shown as a tooltip (a notifier call with all its arguments).
    pub detail: Option<String>,
}

/// The events of `record`: its timeline (API and notifier calls, the AT conversation)
/// merged by time with the PPP packets of its capture. A packet's summary never holds a
/// password ([`crate::packets`]). A capture that cannot be read is an error.
pub fn events(record: &Record) -> Result<Vec<Event>, String> {
    let mut events: Vec<Event> = record
        .timeline
        .iter()
        .map(|moment| happening(moment.at.since_epoch(), &moment.what))
        .collect();
    if let Some(capture) = &record.capture {
        for (stamp, summary) in crate::packets::summarize_timed(capture)? {
            events.push(packet(
                stamp.saturating_sub(record.capture_origin),
                &summary,
            ));
        }
    }
    // At one instant the engine has taken in a packet before it notifies or writes what
    // the packet made it do; the rest keeps the order it was noted in (a stable sort).
    events.sort_by_key(|event| {
        let rank = match (event.kind, event.from) {
            (Kind::Packet, Lane::Server) => 0,
            (Kind::Packet, _) => 2,
            _ => 1,
        };
        (event.at, rank)
    });
    Ok(events)
}

fn happening(at: Duration, what: &Happening) -> Event {
    let event = |from, to, kind, label: &str| Event {
        at,
        from,
        to,
        kind,
        label: label.to_owned(),
        detail: None,
    };
    match what {
        Happening::Dial => event(Lane::Application, Lane::Engine, Kind::Call, "RasDial"),
        Happening::Resumed => event(
            Lane::Application,
            Lane::Engine,
            Kind::Call,
            "RasDial (resume)",
        ),
        Happening::HungUp => event(Lane::Application, Lane::Engine, Kind::Call, "RasHangUp"),
        Happening::Notified { line, call } => {
            let kind = if line.error != 0 {
                Kind::Failure
            } else if line.state.is_paused() {
                Kind::Pause
            } else {
                Kind::Notify
            };
            let mut label = line.to_string();
            if let Some(symbol) = RasError::from_code(line.error).symbol()
                && line.error != 0
            {
                label.push(' ');
                label.push_str(symbol);
            }
            Event {
                detail: Some(format!("{label}: {call}")),
                ..event(Lane::Engine, Lane::Application, kind, &label)
            }
        }
        Happening::Modem(line) => match line.split_once(' ') {
            Some((">", command)) => event(Lane::Engine, Lane::Modem, Kind::Command, command),
            Some(("<", result)) => event(Lane::Modem, Lane::Engine, Kind::Result, result),
            _ => event(Lane::Modem, Lane::Engine, Kind::Result, line),
        },
    }
}

fn packet(at: Duration, summary: &str) -> Event {
    let (from, to, label) = match summary.split_once(' ') {
        Some(("sent", rest)) => (Lane::Engine, Lane::Server, rest),
        Some(("received", rest)) => (Lane::Server, Lane::Engine, rest),
        _ => (Lane::Server, Lane::Engine, summary),
    };
    Event {
        at,
        from,
        to,
        kind: Kind::Packet,
        label: label.to_owned(),
        detail: Some(summary.to_owned()),
    }
}

/// Horizontal distance between lanes.
const LANE_GAP: u32 = 260;
/// Width of the time column on the left.
const TIME_COLUMN: u32 = 90;
/// Where the first arrow sits, below the lane headings.
const TOP: u32 = 64;
/// Vertical distance between arrows.
const ROW: u32 = 24;
/// Width of one character of the label font (12 px monospace: 0.6 em), in tenths of a
/// pixel, to shorten labels that would overflow their arrow (the tooltip keeps the whole
/// text).
const CHAR_WIDTH_TENTHS: u32 = 72;

/// The style sheet embedded in every diagram.
const STYLE: &str = "\
text{font-family:ui-monospace,monospace;font-size:12px;fill:#222}\
.heading{font-size:14px;font-weight:bold}\
.lane-title{font-size:13px;font-weight:bold;text-anchor:middle}\
.lifeline{stroke:#999;stroke-dasharray:4 3}\
.time{fill:#777;font-size:11px}\
.arrow{stroke-width:1.5}\
.label{text-anchor:middle}\
.call .arrow{stroke:#1f5fbf}.notify .arrow{stroke:#2e7d32}\
.pause .arrow{stroke:#b26a00}.failure .arrow{stroke:#c62828}\
.failure .label{fill:#c62828}\
.command .arrow{stroke:#6a1b9a}.result .arrow{stroke:#8e24aa}\
.packet .arrow{stroke:#455a64}";

fn x(lane: Lane) -> u32 {
    TIME_COLUMN + LANE_GAP / 2 + lane.column() * LANE_GAP
}

/// `label` cut to `width` pixels' worth of characters, with an ellipsis when cut.
fn fit(label: &str, width: u32) -> String {
    let room = usize::try_from(width * 10 / CHAR_WIDTH_TENTHS)
        .unwrap_or(usize::MAX)
        .max(4);
    if label.chars().count() <= room {
        label.to_owned()
    } else {
        let mut cut: String = label.chars().take(room - 1).collect();
        cut.push('…');
        cut
    }
}

/// `events` drawn as an SVG document headed `title`.
pub fn svg(title: &str, events: &[Event]) -> String {
    let width = TIME_COLUMN + LANE_GAP * 4;
    let rows = u32::try_from(events.len().max(1)).unwrap_or(u32::MAX);
    let bottom = TOP + rows.saturating_mul(ROW);
    let height = bottom + ROW;
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"sequence\" width=\"{width}\" \
         height=\"{height}\" viewBox=\"0 0 {width} {height}\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n\
         <defs><marker id=\"head\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" \
         markerWidth=\"8\" markerHeight=\"8\" orient=\"auto-start-reverse\">\
         <path d=\"M0,0 L10,5 L0,10 z\" fill=\"context-stroke\"/></marker></defs>\n\
         <rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n\
         <text class=\"heading\" x=\"8\" y=\"20\">{}</text>\n\
         <text class=\"time\" x=\"8\" y=\"{}\">virtual time</text>\n",
        escape(title),
        escape(title),
        TOP - 20,
    );
    for lane in Lane::ALL {
        let x = x(lane);
        let _ = writeln!(
            out,
            "<g class=\"lane\" data-lane=\"{name}\"><text class=\"lane-title\" x=\"{x}\" \
             y=\"{}\">{name}</text><line class=\"lifeline\" x1=\"{x}\" y1=\"{}\" \
             x2=\"{x}\" y2=\"{bottom}\"/></g>",
            TOP - 20,
            TOP - 12,
            name = lane.name(),
        );
    }
    if events.is_empty() {
        let _ = writeln!(
            out,
            "<text class=\"time\" x=\"{}\" y=\"{}\">nothing was recorded</text>",
            TIME_COLUMN + 8,
            TOP + ROW / 2
        );
    }
    for (row, event) in (0u32..).zip(events) {
        let y = TOP + row * ROW + ROW / 2;
        let (from, to) = (x(event.from), x(event.to));
        let label = fit(&event.label, from.abs_diff(to).saturating_sub(24));
        let tooltip = event.detail.as_deref().unwrap_or(&event.label);
        let _ = writeln!(
            out,
            "<g class=\"event {class}\" data-from=\"{from_name}\" data-to=\"{to_name}\">\
             <title>{tooltip}</title>\
             <text class=\"time\" x=\"8\" y=\"{text_y}\">{time:.3} s</text>\
             <line class=\"arrow\" x1=\"{from}\" y1=\"{y}\" x2=\"{to}\" y2=\"{y}\" \
             marker-end=\"url(#head)\"/>\
             <text class=\"label\" x=\"{mid}\" y=\"{label_y}\">{label}</text></g>",
            class = event.kind.class(),
            from_name = event.from.name(),
            to_name = event.to.name(),
            tooltip = escape(tooltip),
            text_y = y + 4,
            time = event.at.as_secs_f64(),
            mid = from.midpoint(to),
            label_y = y - 4,
            label = escape(&label),
        );
    }
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::timeline::Moment;
    use proptest::prelude::*;
    use ras_engine::ppp::hdlc::Encoder;
    use ras_engine::ppp::wire::Protocol;
    use ras_engine::ppp::{Capture, Direction};
    use ras_engine::ras::RasConnState;
    use sansio::Instant;

    use crate::trace::TraceLine;

    fn at(millis: u64) -> Instant {
        Instant::ZERO + Duration::from_millis(millis)
    }

    fn notified(millis: u64, state: RasConnState, error: u32) -> Moment {
        Moment {
            at: at(millis),
            what: Happening::Notified {
                line: TraceLine {
                    subentry: 1,
                    state,
                    error,
                },
                call: format!("RasDialFunc2(0, 1, h1, WM_RASDIALEVENT, {state}, {error}, 0)"),
            },
        }
    }

    /// A PAP Authenticate-Request for alice with her password (RFC 1334 §2.2.1).
    fn pap_request(password: &str) -> Vec<u8> {
        let mut information = vec![1, 7, 0, 0, 5];
        information.extend(b"alice");
        information.push(u8::try_from(password.len()).unwrap());
        information.extend(password.as_bytes());
        let length = u16::try_from(information.len()).unwrap();
        information[2..4].copy_from_slice(&length.to_be_bytes());
        Encoder::default().encode(Protocol::PAP, &information)
    }

    /// A PAP dial that the server refuses, with every kind of event.
    fn record() -> Record {
        let mut capture = Capture::new(Vec::new()).unwrap();
        capture
            .record(at(6_100), Direction::Sent, &pap_request("s3cret<&>"))
            .unwrap();
        let nak = Encoder::default().encode(Protocol::PAP, &[3, 7, 0, 5, 0]);
        capture
            .record(at(6_200), Direction::Received, &nak)
            .unwrap();
        let modem = |millis, line: &str| Moment {
            at: at(millis),
            what: Happening::Modem(line.to_owned()),
        };
        Record {
            timeline: vec![
                Moment {
                    at: at(0),
                    what: Happening::Dial,
                },
                notified(0, RasConnState::ConnectDevice, 0),
                modem(1, "> ATDT5551234"),
                modem(6_000, "< CONNECT 33600"),
                notified(6_001, RasConnState::Authenticate, 0),
                // The refusal is notified at the instant the Nak arrives.
                notified(6_200, RasConnState::Authenticate, 691),
                Moment {
                    at: at(6_300),
                    what: Happening::HungUp,
                },
            ],
            capture: Some(capture.into_inner()),
            ..Record::default()
        }
    }

    #[test]
    fn events_merge_the_timeline_and_the_packets_in_time() {
        let events = events(&record()).unwrap();
        let summary: Vec<(u128, Lane, Lane, Kind, &str)> = events
            .iter()
            .map(|e| (e.at.as_millis(), e.from, e.to, e.kind, e.label.as_str()))
            .collect();
        use Kind::*;
        use Lane::*;
        assert_eq!(
            summary,
            [
                (0, Application, Engine, Call, "RasDial"),
                (0, Engine, Application, Notify, "ConnectDevice"),
                (1, Engine, Modem, Command, "ATDT5551234"),
                (6_000, Modem, Engine, Result, "CONNECT 33600"),
                (6_001, Engine, Application, Notify, "Authenticate"),
                (
                    6_100,
                    Engine,
                    Server,
                    Packet,
                    "PAP Authenticate-Request id=7 peer-id=alice"
                ),
                // Taken in before the notification it caused, at the same instant.
                (6_200, Server, Engine, Packet, "PAP Authenticate-Nak id=7"),
                (
                    6_200,
                    Engine,
                    Application,
                    Failure,
                    "Authenticate 691 ERROR_AUTHENTICATION_FAILURE"
                ),
                (6_300, Application, Engine, Call, "RasHangUp"),
            ]
        );
    }

    #[test]
    fn the_svg_has_four_lanes_and_one_arrow_per_event_and_no_password() {
        let events = events(&record()).unwrap();
        let svg = svg("auth/pap-refused", &events);
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.trim_end().ends_with("</svg>"));
        let lanes: Vec<&str> = svg
            .match_indices("<g class=\"lane\" data-lane=\"")
            .map(|(i, m)| {
                let rest = &svg[i + m.len()..];
                &rest[..rest.find('"').unwrap()]
            })
            .collect();
        assert_eq!(lanes, ["application", "engine", "modem", "server"]);
        assert_eq!(svg.matches("<g class=\"event ").count(), events.len());
        assert_eq!(svg.matches("<line class=\"arrow\"").count(), events.len());
        assert_eq!(svg.matches("class=\"event failure\"").count(), 1);
        assert!(svg.contains("data-from=\"server\" data-to=\"engine\""));
        // Self-contained: no script, no external reference.
        assert!(!svg.contains("<script"));
        assert!(!svg.contains("href=\"http"));
        assert!(!svg.contains("@import"));
        // The capture holds the password; the diagram never does.
        assert!(!svg.contains("s3cret"), "{svg}");
    }

    #[test]
    fn text_is_escaped_and_long_labels_are_shortened() {
        let events = [Event {
            at: Duration::ZERO,
            from: Lane::Modem,
            to: Lane::Engine,
            kind: Kind::Result,
            label: format!("<b>\"x\" & 'y'</b>{}", "z".repeat(200)),
            detail: None,
        }];
        let svg = svg("a<b>&c", &events);
        assert!(svg.contains("<title>a&lt;b&gt;&amp;c</title>"));
        assert!(svg.contains("&lt;b&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/b&gt;"));
        assert!(!svg.contains("<b>"));
        // The arrow's label is cut to fit one lane gap; the tooltip keeps it whole.
        let label = svg.split("class=\"label\"").nth(1).unwrap();
        let label = &label[label.find('>').unwrap() + 1..label.find("</text>").unwrap()];
        assert!(label.ends_with('…'), "{label}");
        assert!(label.matches('z').count() < 36, "{label}");
        assert!(svg.contains(&"z".repeat(200)));
    }

    fn lane() -> impl Strategy<Value = Lane> {
        proptest::sample::select(Lane::ALL.to_vec())
    }

    fn kind() -> impl Strategy<Value = Kind> {
        use Kind::*;
        proptest::sample::select(vec![Call, Notify, Pause, Failure, Command, Result, Packet])
    }

    proptest! {
        /// Whatever a modem echoes or a server names itself, the diagram stays well-formed
        /// XML with one event group and one arrow per event.
        #[test]
        fn any_events_give_well_formed_svg(
            title in any::<String>(),
            events in proptest::collection::vec(
                (any::<u32>(), lane(), lane(), kind(), any::<String>(), proptest::option::of(any::<String>())),
                0..20,
            ),
        ) {
            let events: Vec<Event> = events
                .into_iter()
                .map(|(millis, from, to, kind, label, detail)| Event {
                    at: Duration::from_millis(u64::from(millis)),
                    from,
                    to,
                    kind,
                    label,
                    detail,
                })
                .collect();
            let svg = svg(&title, &events);
            let mut reader = quick_xml::Reader::from_str(&svg);
            let (mut groups, mut arrows) = (0, 0);
            loop {
                match reader.read_event() {
                    Ok(quick_xml::events::Event::Eof) => break,
                    Ok(quick_xml::events::Event::Start(element) | quick_xml::events::Event::Empty(element)) => {
                        let class = element
                            .try_get_attribute("class")
                            .unwrap()
                            .map(|a| String::from_utf8_lossy(&a.value).into_owned())
                            .unwrap_or_default();
                        if element.name().as_ref() == b"g" && class.starts_with("event ") {
                            groups += 1;
                        }
                        if element.name().as_ref() == b"line" && class == "arrow" {
                            arrows += 1;
                        }
                    }
                    Ok(_) => {}
                    Err(error) => prop_assert!(false, "{error} in {svg}"),
                }
            }
            prop_assert_eq!(groups, events.len());
            prop_assert_eq!(arrows, events.len());
        }
    }

    #[test]
    fn a_run_without_events_says_so() {
        let svg = svg("empty", &[]);
        assert!(svg.contains("nothing was recorded"));
        assert_eq!(svg.matches("<g class=\"lane\"").count(), 4);
        assert_eq!(svg.matches("<g class=\"event ").count(), 0);
    }
}
