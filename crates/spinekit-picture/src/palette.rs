/// Distinct label colours (Sasha Trubetskoy's "20 simple, distinct colours" without white, black and grey,
/// which would vanish on a greyscale image). Fixed so that the same label has the same colour in every picture.
const LABEL_COLOURS: [[u8; 3]; 19] = [
    [230, 25, 75],   // red
    [60, 180, 75],   // green
    [255, 225, 25],  // yellow
    [0, 130, 200],   // blue
    [245, 130, 48],  // orange
    [145, 30, 180],  // purple
    [70, 240, 240],  // cyan
    [240, 50, 230],  // magenta
    [210, 245, 60],  // lime
    [250, 190, 212], // pink
    [0, 128, 128],   // teal
    [220, 190, 255], // lavender
    [170, 110, 40],  // brown
    [255, 250, 200], // beige
    [128, 0, 0],     // maroon
    [170, 255, 195], // mint
    [128, 128, 0],   // olive
    [255, 215, 180], // apricot
    [0, 0, 128],     // navy
];

/// Overlay colour (RGB) of a label value; label 0 is background and is never drawn. Colours repeat every 19 labels.
pub fn label_colour(label: u32) -> [u8; 3] {
    LABEL_COLOURS[(label.saturating_sub(1) as usize) % LABEL_COLOURS.len()]
}
