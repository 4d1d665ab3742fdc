//! The font embedded in the binary: DejaVu Sans, regular and bold, subset to the
//! characters French maps need (`fixtures/make_font.py`; licence in
//! `src/render/font/LICENSE`: Bitstream Vera licence, DejaVu changes in the public
//! domain). resvg draws `map.png` with it, and `map.svg` embeds it as `@font-face`
//! so that browsers show the same letters without the font installed.

use base64::Engine as _;

/// DejaVu Sans, regular, subset.
pub const REGULAR: &[u8] = include_bytes!("font/DejaVuSans-subset.ttf");
/// DejaVu Sans, bold, subset.
pub const BOLD: &[u8] = include_bytes!("font/DejaVuSans-Bold-subset.ttf");

/// The family name the drawings ask for.
pub const FAMILY: &str = "DejaVu Sans";

/// CSS `@font-face` rules carrying both faces as data URLs.
pub fn css() -> String {
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    format!(
        "@font-face{{font-family:\"{FAMILY}\";font-weight:normal;src:url(data:font/ttf;base64,{})}}\
         @font-face{{font-family:\"{FAMILY}\";font-weight:bold;src:url(data:font/ttf;base64,{})}}",
        b64(REGULAR),
        b64(BOLD)
    )
}
