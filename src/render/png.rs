//! `map.png`: the SVG of the map rasterised by resvg (pure Rust, tiny-skia), with
//! the embedded font and no system font, so the PNG is the same drawing on any
//! machine.

use std::sync::{Arc, OnceLock};

use crate::error::{Error, Result};

fn options() -> &'static resvg::usvg::Options<'static> {
    static OPTIONS: OnceLock<resvg::usvg::Options<'static>> = OnceLock::new();
    OPTIONS.get_or_init(|| {
        let mut db = resvg::usvg::fontdb::Database::new();
        db.load_font_data(super::font::REGULAR.to_vec());
        db.load_font_data(super::font::BOLD.to_vec());
        db.set_sans_serif_family(super::font::FAMILY);
        resvg::usvg::Options {
            font_family: super::font::FAMILY.to_owned(),
            fontdb: Arc::new(db),
            ..resvg::usvg::Options::default()
        }
    })
}

/// Rasterises an SVG at its own size (one pixel per user unit) into PNG bytes.
///
/// # Errors
/// [`Error::Render`] when the SVG cannot be read or is too large to draw.
pub fn rasterise(svg: &str) -> Result<Vec<u8>> {
    let tree = resvg::usvg::Tree::from_str(svg, options())
        .map_err(|e| Error::Render(format!("reading the map's SVG: {e}")))?;
    let size = tree.size().to_int_size();
    let (w, h) = (size.width(), size.height());
    let mut pixmap = resvg::tiny_skia::Pixmap::new(w, h)
        .ok_or_else(|| Error::Render(format!("a {w}×{h} pixel picture cannot be allocated")))?;
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::identity(),
        &mut pixmap.as_mut(),
    );
    // premultiplied RGBA over white: the background rect makes every pixel opaque,
    // so dropping alpha loses nothing
    let rgb: Vec<u8> = pixmap
        .data()
        .chunks_exact(4)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect();
    encode(w, h, &rgb).map_err(|e| Error::Render(format!("encoding map.png: {e}")))
}

/// PNG bytes of the pixmap: opaque RGB (the map has a white background), the
/// `Up` filter with fdeflate's fastest mode (maps are large flat areas: a few
/// percent larger than the best compression, a fraction of its time).
fn encode(w: u32, h: u32, rgb: &[u8]) -> std::result::Result<Vec<u8>, png::EncodingError> {
    let mut out = Vec::with_capacity(rgb.len() / 8);
    let mut encoder = png::Encoder::new(&mut out, w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Fastest);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(rgb)?;
    writer.finish()?;
    Ok(out)
}
