//! The timeline's picture in a real browser: headless Chromium renders the SVG of a forced
//! shutdown (a real engine run whose close hangs) and the README's picture without an XML
//! error, at their full size, with the bars drawn and the blocker in red. `.ci/run` installs
//! Debian's `chromium`; without it these tests are ignored (`--include-ignored` runs them).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use graceful::timeline::{Timeline, svg};
use graceful::{Graceful, Res, Resource};

struct Stuck;
struct Db;

/// The picture of a shutdown forced by a close that never ends.
fn forced_svg() -> String {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let outcome = runtime.block_on(
        Graceful::builder()
            .signals([])
            .resource_close_timeout(Duration::from_millis(200))
            .resource(
                Resource::from_value("stuck_client", 10, Stuck)
                    .close_with(|_s: Res<Stuck>| std::future::pending::<()>()),
            )
            .resource(Resource::from_value("db", 100, Db))
            .build()
            .expect("build")
            .run(|_| async {}),
    );
    assert!(outcome.report.is_forced());
    svg::render(&Timeline::from_report(&outcome.report))
}

fn chromium() -> PathBuf {
    ["chromium", "chromium-browser"]
        .iter()
        .find_map(|name| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|d| d.join(name))
                    .find(|p| p.is_file())
            })
        })
        .expect("chromium is not installed (.ci/run installs Debian's `chromium`)")
}

/// `width` and `height` of the `<svg>` element.
fn size(svg: &str) -> (u32, u32) {
    let attr = |name: &str| -> u32 {
        let start = svg.find(&format!(" {name}=\"")).expect(name) + name.len() + 3;
        svg[start..]
            .split('"')
            .next()
            .and_then(|v| v.parse().ok())
            .expect("a number")
    };
    (attr("width"), attr("height"))
}

fn headless(file: &Path, args: &[String]) -> std::process::Output {
    Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
        ])
        .args(args)
        .arg(format!("file://{}", file.display()))
        .output()
        .expect("run chromium")
}

/// A screenshot: its size and its pixels as RGB triples.
struct Shot {
    width: u32,
    height: u32,
    rgb: Vec<[u8; 3]>,
}

impl Shot {
    fn count(&self, keep: impl Fn(u8, u8, u8) -> bool) -> usize {
        self.rgb.iter().filter(|p| keep(p[0], p[1], p[2])).count()
    }
}

/// Renders `svg` in Chromium and reads the screenshot.
fn render(svg: &str) -> Shot {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("timeline.svg");
    std::fs::write(&file, svg).expect("write svg");
    // An XML error would still render (as an error page): the DOM says whether it parsed.
    let dom = headless(&file, &["--dump-dom".into()]);
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(
        dom.contains("<svg"),
        "chromium did not load the picture: {dom}"
    );
    assert!(
        !dom.contains("parsererror"),
        "the SVG does not parse: {dom}"
    );
    let (w, h) = size(svg);
    let png = dir.path().join("shot.png");
    let out = headless(
        &file,
        &[
            format!("--window-size={w},{h}"),
            format!("--screenshot={}", png.display()),
        ],
    );
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let decoder = png::Decoder::new(std::fs::File::open(&png).expect("screenshot written"));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut pixels = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut pixels).expect("a frame");
    let channels = match info.color_type {
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        other => panic!("unexpected screenshot colour type {other:?}"),
    };
    assert_eq!(info.bit_depth, png::BitDepth::Eight, "{info:?}");
    pixels.truncate(info.buffer_size());
    Shot {
        width: info.width,
        height: info.height,
        rgb: pixels
            .chunks_exact(channels)
            .map(|p| [p[0], p[1], p[2]])
            .collect(),
    }
}

#[test]
#[ignore = "needs chromium"]
fn chromium_renders_a_forced_shutdown_with_its_blocker_in_red() {
    let svg = forced_svg();
    let shot = render(&svg);
    assert_eq!(
        (shot.width, shot.height),
        size(&svg),
        "rendered at its full size"
    );
    assert!(shot.width >= 800, "wide enough to read: {}", shot.width);
    let drawn = shot.count(|r, g, b| (r, g, b) != (255, 255, 255));
    assert!(
        drawn * 50 > shot.rgb.len(),
        "at least 2% of the picture is drawn: {drawn} of {} pixels",
        shot.rgb.len()
    );
    // The hung close's bar: #d93025.
    let red = shot.count(|r, g, b| r > 200 && g < 80 && b < 70);
    assert!(red > 1000, "the blocker's bar is red: {red} red pixels");
}

#[test]
#[ignore = "needs chromium"]
fn chromium_renders_the_readme_picture() {
    let svg = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/quickstart-shutdown.svg"
    ))
    .expect("docs/quickstart-shutdown.svg (docs/timeline.sh writes it)");
    let shot = render(&svg);
    assert_eq!((shot.width, shot.height), size(&svg));
    // Bars in the phase blue (#1a73e8), and nothing past its deadline.
    let blue = shot.count(|r, g, b| r < 60 && (100..140).contains(&g) && b > 200);
    assert!(blue > 1000, "the phases are drawn: {blue} blue pixels");
    let red = shot.count(|r, g, b| r > 200 && g < 80 && b < 70);
    assert_eq!(red, 0, "a completed shutdown has no red");
}
