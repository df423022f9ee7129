//! Trace readers and the table of bundled traces.
//!
//! A trace is a file of cache requests. Every format is read *streaming*: the file is
//! opened, decompressed on the fly (chosen by its extension: `.gz` with flate2, `.xz`
//! with xz2, `.zst` with zstd, anything else as plain bytes) and turned into a
//! [`TraceReader`], an iterator of [`Request`]s that never holds more than one line
//! or one record in memory.
//!
//! Malformed input is reported as an [`io::Error`] of kind
//! [`io::ErrorKind::InvalidData`] whose message names the source, the line (text
//! formats) or byte offset (binary formats) and what was wrong. A reader stops after
//! its first error.
//!
//! The supported formats are described on [`TraceFormat`]. The traces shipped with the
//! repository live under `traces/` at the crate root and are listed by
//! [`bundled_traces`]; `traces/README.md` gives their origin and licences.

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// One cache request read from a trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Request {
    /// The key asked for.
    pub key: u64,
    /// The object's size as the trace gives it, or 1 for formats without sizes.
    /// May be 0 if the trace says so; [`load`] raises it to 1.
    pub weight: u32,
}

/// The on-disk layout of a trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TraceFormat {
    /// Text, `start_block num_blocks ignore request_id` per line (the ARC paper's
    /// traces). A line stands for `num_blocks` requests, for the keys
    /// `start_block ..= start_block + num_blocks - 1`. Fields after the second are
    /// ignored; blank lines are skipped. A line may ask for at most
    /// [`MAX_ARC_RUN`] blocks.
    Arc,
    /// Text, one decimal key per line (the LIRS paper's traces). Lines holding only
    /// `*` (checkpoint markers) and blank lines are skipped.
    Lirs,
    /// Text, `type 0xADDRESS size` per line (program address traces); the key is the
    /// hexadecimal address, the other fields are ignored. Blank lines are skipped.
    Address,
    /// Binary, a stream of 4-byte big-endian integers, one key each.
    Be32,
    /// Binary, a stream of 8-byte big-endian integers, one key each.
    Be64,
    /// Text, `timestamp object_id size` per line (the AdaptSize CDN sample). The key
    /// mixes the id with the size (see [`adapt_size_key`]), so an object whose size
    /// changed counts as a new object; the weight is the size (saturated to
    /// `u32::MAX`). Blank lines are skipped.
    AdaptSize,
    /// Binary, libCacheSim's `oracleGeneral`: packed 24-byte little-endian records
    /// `<u32 timestamp, u64 object_id, u32 object_size, i64 next_access_vtime>`.
    /// The key is the object id, the weight its size.
    OracleGeneral,
    /// Text, one decimal key per line. Blank lines are skipped.
    Keys,
}

impl TraceFormat {
    /// A short lower-case name of the format, as used in `traces/README.md`.
    pub fn name(self) -> &'static str {
        match self {
            TraceFormat::Arc => "arc",
            TraceFormat::Lirs => "lirs",
            TraceFormat::Address => "address",
            TraceFormat::Be32 => "be32",
            TraceFormat::Be64 => "be64",
            TraceFormat::AdaptSize => "adapt-size",
            TraceFormat::OracleGeneral => "oracleGeneral",
            TraceFormat::Keys => "keys",
        }
    }

    /// Parses a name written by [`TraceFormat::name`] (case-insensitive).
    pub fn from_name(name: &str) -> Option<TraceFormat> {
        const ALL: [TraceFormat; 8] = [
            TraceFormat::Arc,
            TraceFormat::Lirs,
            TraceFormat::Address,
            TraceFormat::Be32,
            TraceFormat::Be64,
            TraceFormat::AdaptSize,
            TraceFormat::OracleGeneral,
            TraceFormat::Keys,
        ];
        ALL.into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for TraceFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How a trace file is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Compression {
    /// Not compressed.
    None,
    /// gzip (`.gz`), possibly several members back to back.
    Gzip,
    /// xz (`.xz`), possibly several streams back to back.
    Xz,
    /// Zstandard (`.zst`).
    Zstd,
}

impl Compression {
    /// Chooses the decompressor from the file's extension: `.gz`, `.xz`, `.zst`,
    /// otherwise none.
    pub fn from_path(path: &Path) -> Compression {
        match path.extension().and_then(|e| e.to_str()) {
            Some("gz") => Compression::Gzip,
            Some("xz") => Compression::Xz,
            Some("zst") => Compression::Zstd,
            _ => Compression::None,
        }
    }
}

/// The most blocks one ARC line may ask for (the bundled traces use at most 512);
/// a larger count is taken for corruption rather than expanded.
pub const MAX_ARC_RUN: u64 = 1 << 24;

/// Size of the buffer put in front of every decompressor.
const BUF_SIZE: usize = 1 << 16;

/// Wraps a raw byte source in the right decompressor and a buffer.
pub fn decompress<R: Read + Send + 'static>(
    raw: R,
    compression: Compression,
) -> io::Result<Box<dyn BufRead + Send>> {
    Ok(match compression {
        Compression::None => Box::new(BufReader::with_capacity(BUF_SIZE, raw)),
        Compression::Gzip => Box::new(BufReader::with_capacity(
            BUF_SIZE,
            flate2::read::MultiGzDecoder::new(raw),
        )),
        Compression::Xz => Box::new(BufReader::with_capacity(
            BUF_SIZE,
            xz2::read::XzDecoder::new_multi_decoder(raw),
        )),
        Compression::Zstd => Box::new(BufReader::with_capacity(
            BUF_SIZE,
            zstd::stream::read::Decoder::new(raw)?,
        )),
    })
}

/// Opens `path`, decompressing by extension, and reads it as `format`.
///
/// Errors while opening name the path; errors while reading name the path and the
/// line or byte offset.
pub fn open(path: &Path, format: TraceFormat) -> io::Result<TraceReader<Box<dyn BufRead + Send>>> {
    let file = File::open(path)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
    let input = decompress(file, Compression::from_path(path))
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
    Ok(TraceReader::new(input, format).with_source(path.display().to_string()))
}

/// Reads a whole trace into memory as `(key, weight)` pairs, weights raised to at
/// least 1 (a zero-weight object would otherwise be free to cache).
pub fn load(path: &Path, format: TraceFormat) -> io::Result<Vec<(u64, u32)>> {
    let mut out = Vec::new();
    for request in open(path, format)? {
        let request = request?;
        out.push((request.key, request.weight.max(1)));
    }
    Ok(out)
}

/// The key used for an AdaptSize request: `id` and `size` mixed by a fixed
/// (seed-free, platform-independent) 64-bit hash, so the same object at another
/// size is another key.
pub fn adapt_size_key(id: u64, size: u64) -> u64 {
    fn mix(mut z: u64) -> u64 {
        // The SplitMix64 finaliser: a bijection on u64 with good avalanche.
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    mix(id ^ mix(size.wrapping_add(0x9e37_79b9_7f4a_7c15)))
}

/// A streaming iterator of [`Request`]s over a decompressed trace.
///
/// Yields `Err` once on malformed input or an I/O failure and then ends.
pub struct TraceReader<R> {
    input: R,
    format: TraceFormat,
    source: String,
    /// Reused line / record buffer.
    buf: Vec<u8>,
    /// Lines read so far (text formats).
    line: u64,
    /// Bytes read so far (binary formats).
    offset: u64,
    /// ARC: the next key of the line being expanded and how many remain.
    run_next: u64,
    run_left: u64,
    done: bool,
}

impl<R: BufRead> TraceReader<R> {
    /// Reads `input` (already decompressed) as `format`.
    pub fn new(input: R, format: TraceFormat) -> Self {
        TraceReader {
            input,
            format,
            source: String::from("<trace>"),
            buf: Vec::with_capacity(128),
            line: 0,
            offset: 0,
            run_next: 0,
            run_left: 0,
            done: false,
        }
    }

    /// Sets the name used in error messages (by default `<trace>`).
    pub fn with_source(mut self, source: impl Into<String>) -> Self {
        self.source = source.into();
        self
    }

    /// The format being read.
    pub fn format(&self) -> TraceFormat {
        self.format
    }

    fn bad_line(&self, what: impl fmt::Display) -> io::Error {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{}: line {}: {what} (format {})",
                self.source, self.line, self.format
            ),
        )
    }

    /// Reads the next line into `self.buf`, without its line ending, counting lines.
    /// Returns false at end of input.
    fn next_line(&mut self) -> io::Result<bool> {
        self.buf.clear();
        let n = self.input.read_until(b'\n', &mut self.buf)?;
        if n == 0 {
            return Ok(false);
        }
        self.line += 1;
        while matches!(self.buf.last(), Some(b'\n' | b'\r')) {
            self.buf.pop();
        }
        Ok(true)
    }

    /// The current line as trimmed text.
    fn line_text(&self) -> io::Result<&str> {
        std::str::from_utf8(&self.buf)
            .map(str::trim)
            .map_err(|_| self.bad_line("not valid UTF-8"))
    }

    fn next_text(&mut self) -> io::Result<Option<Request>> {
        loop {
            if self.format == TraceFormat::Arc && self.run_left > 0 {
                let key = self.run_next;
                self.run_left -= 1;
                self.run_next = self.run_next.wrapping_add(1);
                return Ok(Some(Request { key, weight: 1 }));
            }
            if !self.next_line()? {
                return Ok(None);
            }
            let text = self.line_text()?;
            if text.is_empty() {
                continue;
            }
            match self.format {
                TraceFormat::Lirs | TraceFormat::Keys => {
                    if self.format == TraceFormat::Lirs && text == "*" {
                        continue;
                    }
                    let key = parse_dec(text)
                        .ok_or_else(|| self.bad_line(format_args!("bad key {text:?}")))?;
                    return Ok(Some(Request { key, weight: 1 }));
                }
                TraceFormat::Arc => {
                    let mut fields = text.split_ascii_whitespace();
                    let (start, count) = match (fields.next(), fields.next()) {
                        (Some(s), Some(c)) => (s, c),
                        _ => {
                            return Err(self.bad_line(format_args!(
                                "expected `start_block num_blocks ...`, got {text:?}"
                            )))
                        }
                    };
                    let start = parse_dec(start)
                        .ok_or_else(|| self.bad_line(format_args!("bad start block {start:?}")))?;
                    let count = parse_dec(count)
                        .ok_or_else(|| self.bad_line(format_args!("bad block count {count:?}")))?;
                    if count > MAX_ARC_RUN {
                        return Err(self.bad_line(format_args!(
                            "block count {count} is over the limit of {MAX_ARC_RUN}"
                        )));
                    }
                    if count > 0 && start.checked_add(count - 1).is_none() {
                        return Err(self.bad_line("block range overflows u64"));
                    }
                    self.run_next = start;
                    self.run_left = count;
                    // Loop round: yields the first block, or reads on if count is 0.
                }
                TraceFormat::Address => {
                    let mut fields = text.split_ascii_whitespace();
                    let addr = match (fields.next(), fields.next()) {
                        (Some(_), Some(a)) => a,
                        _ => {
                            return Err(self.bad_line(format_args!(
                                "expected `type 0xADDRESS size`, got {text:?}"
                            )))
                        }
                    };
                    let key = parse_hex(addr)
                        .ok_or_else(|| self.bad_line(format_args!("bad address {addr:?}")))?;
                    return Ok(Some(Request { key, weight: 1 }));
                }
                TraceFormat::AdaptSize => {
                    let mut fields = text.split_ascii_whitespace();
                    let (id, size) = match (fields.next(), fields.next(), fields.next()) {
                        (Some(_), Some(id), Some(size)) => (id, size),
                        _ => {
                            return Err(self.bad_line(format_args!(
                                "expected `timestamp id size`, got {text:?}"
                            )))
                        }
                    };
                    let id = parse_dec(id)
                        .ok_or_else(|| self.bad_line(format_args!("bad object id {id:?}")))?;
                    let size = parse_dec(size)
                        .ok_or_else(|| self.bad_line(format_args!("bad size {size:?}")))?;
                    return Ok(Some(Request {
                        key: adapt_size_key(id, size),
                        weight: u32::try_from(size).unwrap_or(u32::MAX),
                    }));
                }
                TraceFormat::Be32 | TraceFormat::Be64 | TraceFormat::OracleGeneral => {
                    unreachable!("binary formats are not read by line")
                }
            }
        }
    }

    /// Reads one fixed-size record into `self.buf`. Returns false at a clean end of
    /// input; a partial record is an error.
    fn next_record(&mut self, size: usize) -> io::Result<bool> {
        self.buf.clear();
        self.buf.resize(size, 0);
        let mut filled = 0;
        while filled < size {
            match self.input.read(&mut self.buf[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if filled == 0 {
            return Ok(false);
        }
        if filled < size {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{}: byte {}: truncated record ({filled} of {size} bytes) (format {})",
                    self.source, self.offset, self.format
                ),
            ));
        }
        self.offset += size as u64;
        Ok(true)
    }

    fn next_binary(&mut self) -> io::Result<Option<Request>> {
        let size = match self.format {
            TraceFormat::Be32 => 4,
            TraceFormat::Be64 => 8,
            _ => 24,
        };
        if !self.next_record(size)? {
            return Ok(None);
        }
        let b = &self.buf;
        let request = match self.format {
            TraceFormat::Be32 => Request {
                key: u64::from(u32::from_be_bytes([b[0], b[1], b[2], b[3]])),
                weight: 1,
            },
            TraceFormat::Be64 => Request {
                key: u64::from_be_bytes(b[..8].try_into().expect("8 bytes")),
                weight: 1,
            },
            _ => Request {
                key: u64::from_le_bytes(b[4..12].try_into().expect("8 bytes")),
                weight: u32::from_le_bytes(b[12..16].try_into().expect("4 bytes")),
            },
        };
        Ok(Some(request))
    }
}

impl<R: BufRead> Iterator for TraceReader<R> {
    type Item = io::Result<Request>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let result = match self.format {
            TraceFormat::Be32 | TraceFormat::Be64 | TraceFormat::OracleGeneral => {
                self.next_binary()
            }
            _ => self.next_text(),
        };
        match result {
            Ok(Some(request)) => Some(Ok(request)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// Parses an unsigned decimal number (digits only, no sign).
fn parse_dec(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Parses a hexadecimal number with or without a `0x`/`0X` prefix.
fn parse_hex(s: &str) -> Option<u64> {
    let digits = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(digits, 16).ok()
}

/// A trace to simulate: where it is, how to read it, and the cache sizes to try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceSpec {
    /// A short name for tables, e.g. `lirs/gli`.
    pub name: String,
    /// The file to read.
    pub path: PathBuf,
    /// How to read it.
    pub format: TraceFormat,
    /// Whether policies should count each request's weight (its size) against the
    /// capacity. When false every entry weighs 1 and capacities count entries.
    pub weighted: bool,
    /// Suggested cache sizes: entries, or weight units (bytes) when `weighted`.
    pub sizes: Vec<u64>,
}

impl TraceSpec {
    /// A spec for an arbitrary file (unweighted, no suggested sizes).
    pub fn new(name: impl Into<String>, path: impl Into<PathBuf>, format: TraceFormat) -> Self {
        TraceSpec {
            name: name.into(),
            path: path.into(),
            format,
            weighted: false,
            sizes: Vec::new(),
        }
    }

    /// Opens the trace for streaming.
    pub fn open(&self) -> io::Result<TraceReader<Box<dyn BufRead + Send>>> {
        open(&self.path, self.format)
    }

    /// Reads the whole trace into memory (see [`load`]).
    pub fn load(&self) -> io::Result<Vec<(u64, u32)>> {
        load(&self.path, self.format)
    }
}

/// One row of the bundled-trace table: path under `traces/`, name, format,
/// weighted, suggested sizes.
type BundledRow = (
    &'static str,
    &'static str,
    TraceFormat,
    bool,
    &'static [u64],
);

/// The traces under `traces/`, with their formats and suggested sizes (from the
/// published comparisons listed in `traces/README.md`, or below-footprint sizes
/// where none were published).
const BUNDLED: &[BundledRow] = {
    use TraceFormat::*;
    const SMALL: &[u64] = &[128, 256, 512, 768];
    const ADDR: &[u64] = &[256, 1_024, 4_096, 16_384];
    const P: &[u64] = &[20_000, 160_000];
    &[
        (
            "arc/OLTP.lis.zst",
            "arc/OLTP",
            Arc,
            false,
            &[250, 500, 1_000, 2_000],
        ),
        ("arc/P2.lis.zst", "arc/P2", Arc, false, P),
        ("arc/P3.lis.zst", "arc/P3", Arc, false, P),
        ("arc/P6.lis.zst", "arc/P6", Arc, false, P),
        ("arc/P12.lis.zst", "arc/P12", Arc, false, P),
        (
            "lirs/gli.trace.gz",
            "lirs/gli",
            Lirs,
            false,
            &[250, 500, 1_000, 2_000],
        ),
        (
            "lirs/loop.trace.gz",
            "lirs/loop",
            Lirs,
            false,
            &[256, 512, 768, 1_024],
        ),
        ("lirs/2_pools.trace.gz", "lirs/2_pools", Lirs, false, SMALL),
        (
            "lirs/cpp.trace.gz",
            "lirs/cpp",
            Lirs,
            false,
            &[100, 250, 500, 1_000],
        ),
        (
            "lirs/cs.trace.gz",
            "lirs/cs",
            Lirs,
            false,
            &[100, 300, 600, 1_200],
        ),
        (
            "lirs/ps.trace.gz",
            "lirs/ps",
            Lirs,
            false,
            &[100, 500, 1_000, 2_500],
        ),
        ("lirs/sprite.trace.gz", "lirs/sprite", Lirs, false, SMALL),
        ("lirs/multi1.trace.gz", "lirs/multi1", Lirs, false, SMALL),
        ("lirs/multi2.trace.gz", "lirs/multi2", Lirs, false, SMALL),
        ("lirs/multi3.trace.gz", "lirs/multi3", Lirs, false, SMALL),
        ("lirs/zigzag.trace.gz", "lirs/zigzag", Lirs, false, SMALL),
        (
            "lirs/scan.trace.gz",
            "lirs/scan",
            Lirs,
            false,
            &[250, 500, 1_000, 2_000],
        ),
        (
            "lirs/backf.trace.gz",
            "lirs/backf",
            Lirs,
            false,
            &[100, 250, 500],
        ),
        (
            "corda/trace_vaultservice.gz",
            "corda/vaultservice",
            Be64,
            false,
            &[256, 1_024, 4_096, 8_192],
        ),
        (
            "scarab/scarab-recs.trace.xz",
            "scarab/recs",
            Be64,
            false,
            &[25_000, 50_000, 100_000, 250_000],
        ),
        (
            "cloudphysics/w106.trace.xz",
            "cloudphysics/w106",
            Be32,
            false,
            &[25_000, 50_000, 100_000, 250_000],
        ),
        (
            "cache2k/orm-busy.trace.xz",
            "cache2k/orm-busy",
            Be32,
            false,
            &[1_000, 5_000, 10_000, 40_000],
        ),
        (
            "cache2k/orm-night.trace.xz",
            "cache2k/orm-night",
            Be32,
            false,
            &[1_000, 5_000, 10_000, 40_000],
        ),
        (
            "cache2k/web07.trace.xz",
            "cache2k/web07",
            Be32,
            false,
            &[500, 1_000, 5_000, 10_000],
        ),
        (
            "cache2k/web12.trace.xz",
            "cache2k/web12",
            Be32,
            false,
            &[500, 1_000, 5_000, 10_000],
        ),
        ("address/gcc.trace.gz", "address/gcc", Address, false, ADDR),
        (
            "address/gzip.trace.gz",
            "address/gzip",
            Address,
            false,
            ADDR,
        ),
        ("address/mcf.trace.gz", "address/mcf", Address, false, ADDR),
        (
            "address/swim.trace.gz",
            "address/swim",
            Address,
            false,
            ADDR,
        ),
        (
            "address/twolf.trace.gz",
            "address/twolf",
            Address,
            false,
            &[128, 512, 1_024, 4_096],
        ),
        // Weighted: sizes are byte budgets (16, 64 and 256 MiB; the distinct objects
        // total about 304 MB).
        (
            "adaptsize/request.trace.xz",
            "adaptsize/request",
            AdaptSize,
            true,
            &[1 << 24, 1 << 26, 1 << 28],
        ),
        (
            "libcachesim/cloudPhysicsIO.oracleGeneral.bin",
            "libcachesim/cloudPhysicsIO.bin",
            OracleGeneral,
            false,
            &[1_000, 5_000, 10_000, 25_000],
        ),
        (
            "libcachesim/cloudPhysicsIO.txt.gz",
            "libcachesim/cloudPhysicsIO.txt",
            Keys,
            false,
            &[1_000, 5_000, 10_000, 25_000],
        ),
    ]
};

/// The directory holding the bundled traces: `traces/` under the crate root (as
/// known when the crate was built).
pub fn default_trace_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("traces")
}

/// Every trace under `traces/` (in [`default_trace_dir`]), with its format and
/// suggested sizes.
pub fn bundled_traces() -> Vec<TraceSpec> {
    bundled_traces_in(&default_trace_dir())
}

/// Like [`bundled_traces`], with the files looked for in `dir` instead.
pub fn bundled_traces_in(dir: &Path) -> Vec<TraceSpec> {
    BUNDLED
        .iter()
        .map(|&(file, name, format, weighted, sizes)| TraceSpec {
            name: name.to_string(),
            path: dir.join(file),
            format,
            weighted,
            sizes: sizes.to_vec(),
        })
        .collect()
}

/// The bundled trace called `name` (as in [`TraceSpec::name`]), if any.
pub fn bundled_trace(name: &str) -> Option<TraceSpec> {
    bundled_traces().into_iter().find(|t| t.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::io::{Cursor, Write};

    fn read(bytes: &[u8], format: TraceFormat) -> io::Result<Vec<Request>> {
        TraceReader::new(Cursor::new(bytes.to_vec()), format).collect()
    }

    fn keys(bytes: &[u8], format: TraceFormat) -> Vec<u64> {
        read(bytes, format)
            .unwrap()
            .into_iter()
            .map(|r| r.key)
            .collect()
    }

    /// Asserts that `bytes` fails to parse, with a message containing `needle`.
    fn fails(bytes: &[u8], format: TraceFormat, needle: &str) {
        let err = read(bytes, format).expect_err("malformed input must fail");
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        let msg = err.to_string();
        assert!(msg.contains(needle), "{msg:?} lacks {needle:?}");
    }

    #[test]
    fn arc_expands_block_runs() {
        let text = b"100 3 0 1\n\n7 1 0 2\r\n5 0 0 3\n42 2 9 9\n";
        assert_eq!(keys(text, TraceFormat::Arc), vec![100, 101, 102, 7, 42, 43]);
        // Two fields are enough.
        assert_eq!(keys(b"1 2", TraceFormat::Arc), vec![1, 2]);
        fails(b"1 1 0 0\n12\n", TraceFormat::Arc, "line 2");
        fails(b"x 1 0 0\n", TraceFormat::Arc, "bad start block");
        fails(b"1 -1 0 0\n", TraceFormat::Arc, "bad block count");
        fails(
            b"18446744073709551615 2 0 0\n",
            TraceFormat::Arc,
            "overflows",
        );
        // A corrupt, huge count is refused instead of expanded.
        fails(
            b"0 18446744073709551615 0 0\n",
            TraceFormat::Arc,
            "over the limit",
        );
        let line = format!("0 {MAX_ARC_RUN} 0 0");
        let longest = TraceReader::new(line.as_bytes(), TraceFormat::Arc);
        assert_eq!(longest.count() as u64, MAX_ARC_RUN);
    }

    #[test]
    fn arc_error_comes_after_earlier_requests() {
        let mut reader = TraceReader::new(Cursor::new(&b"5 2 0 0\nbad\n"[..]), TraceFormat::Arc);
        assert_eq!(reader.next().unwrap().unwrap().key, 5);
        assert_eq!(reader.next().unwrap().unwrap().key, 6);
        let err = reader.next().unwrap().unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
        assert!(reader.next().is_none(), "a reader stops after an error");
    }

    #[test]
    fn lirs_skips_markers_and_blanks() {
        let text = b"3\r\n*\n\n  4  \n*\n18446744073709551615\n";
        assert_eq!(keys(text, TraceFormat::Lirs), vec![3, 4, u64::MAX]);
        fails(b"1\n2\nthree\n", TraceFormat::Lirs, "line 3");
        fails(b"-1\n", TraceFormat::Lirs, "bad key");
        fails(b"18446744073709551616\n", TraceFormat::Lirs, "bad key");
        fails(b"1 2\n", TraceFormat::Lirs, "bad key");
        fails(b"\xff\n", TraceFormat::Lirs, "UTF-8");
    }

    #[test]
    fn keys_format() {
        assert_eq!(keys(b"10\n20\n\n10", TraceFormat::Keys), vec![10, 20, 10]);
        // Unlike LIRS, `*` is not a marker here.
        fails(b"1\n*\n", TraceFormat::Keys, "line 2");
        assert!(keys(b"", TraceFormat::Keys).is_empty());
    }

    #[test]
    fn address_format() {
        let text = b"s 0x1fffff50 1\nl 0X1FFFFF58 4\nl ff 6\n";
        assert_eq!(
            keys(text, TraceFormat::Address),
            vec![0x1fff_ff50, 0x1fff_ff58, 0xff]
        );
        fails(b"s 0x10 1\ns\n", TraceFormat::Address, "line 2");
        fails(b"s 0xzz 1\n", TraceFormat::Address, "bad address");
        fails(b"s 0x 1\n", TraceFormat::Address, "bad address");
    }

    #[test]
    fn adapt_size_format() {
        let reqs = read(
            b"1 0 68\n2 1 7454\n3 0 68\n4 0 99\n",
            TraceFormat::AdaptSize,
        )
        .unwrap();
        assert_eq!(reqs.len(), 4);
        assert_eq!(reqs[0].weight, 68);
        assert_eq!(reqs[1].weight, 7454);
        assert_eq!(reqs[0].key, adapt_size_key(0, 68));
        assert_eq!(reqs[0].key, reqs[2].key, "same id and size: same key");
        assert_ne!(reqs[0].key, reqs[3].key, "same id, new size: new key");
        assert_ne!(reqs[0].key, reqs[1].key);
        // Sizes beyond u32 saturate.
        let big = read(b"1 5 99999999999\n", TraceFormat::AdaptSize).unwrap();
        assert_eq!(big[0].weight, u32::MAX);
        fails(b"1 0 68\n2 1\n", TraceFormat::AdaptSize, "line 2");
        fails(b"1 x 68\n", TraceFormat::AdaptSize, "bad object id");
        fails(b"1 0 -5\n", TraceFormat::AdaptSize, "bad size");
    }

    #[test]
    fn adapt_size_key_is_fixed() {
        // The key must not depend on a random seed or the platform.
        assert_eq!(adapt_size_key(0, 68), adapt_size_key(0, 68));
        assert_eq!(adapt_size_key(12_345, 678), 0x3055_4bd3_a698_0b87);
    }

    #[test]
    fn be32_and_be64() {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&1u32.to_be_bytes());
        bytes.extend_from_slice(&0xdead_beef_u32.to_be_bytes());
        assert_eq!(keys(&bytes, TraceFormat::Be32), vec![1, 0xdead_beef]);
        // The same 8 bytes as one big-endian u64.
        assert_eq!(keys(&bytes, TraceFormat::Be64), vec![0x0000_0001_dead_beef]);
        bytes.push(7);
        fails(
            &bytes,
            TraceFormat::Be32,
            "byte 8: truncated record (1 of 4 bytes)",
        );
        fails(
            &bytes,
            TraceFormat::Be64,
            "byte 8: truncated record (1 of 8 bytes)",
        );
        assert!(keys(b"", TraceFormat::Be64).is_empty());
    }

    fn oracle_record(ts: u32, id: u64, size: u32, next: i64) -> Vec<u8> {
        let mut r = Vec::new();
        r.extend_from_slice(&ts.to_le_bytes());
        r.extend_from_slice(&id.to_le_bytes());
        r.extend_from_slice(&size.to_le_bytes());
        r.extend_from_slice(&next.to_le_bytes());
        assert_eq!(r.len(), 24);
        r
    }

    #[test]
    fn oracle_general() {
        let mut bytes = oracle_record(1, 42_932_745, 512, -1);
        bytes.extend(oracle_record(2, u64::MAX - 1, 0, 17));
        let reqs = read(&bytes, TraceFormat::OracleGeneral).unwrap();
        assert_eq!(
            reqs,
            vec![
                Request {
                    key: 42_932_745,
                    weight: 512
                },
                Request {
                    key: u64::MAX - 1,
                    weight: 0
                },
            ]
        );
        bytes.truncate(30);
        fails(
            &bytes,
            TraceFormat::OracleGeneral,
            "byte 24: truncated record (6 of 24",
        );
    }

    #[test]
    fn format_names_round_trip() {
        for f in [
            TraceFormat::Arc,
            TraceFormat::Lirs,
            TraceFormat::Address,
            TraceFormat::Be32,
            TraceFormat::Be64,
            TraceFormat::AdaptSize,
            TraceFormat::OracleGeneral,
            TraceFormat::Keys,
        ] {
            assert_eq!(TraceFormat::from_name(f.name()), Some(f));
            assert_eq!(
                TraceFormat::from_name(&f.to_string().to_uppercase()),
                Some(f)
            );
        }
        assert_eq!(TraceFormat::from_name("csv"), None);
    }

    #[test]
    fn compression_by_extension() {
        let c = |p: &str| Compression::from_path(Path::new(p));
        assert_eq!(c("traces/lirs/gli.trace.gz"), Compression::Gzip);
        assert_eq!(c("traces/cache2k/web07.trace.xz"), Compression::Xz);
        assert_eq!(c("traces/arc/OLTP.lis.zst"), Compression::Zstd);
        assert_eq!(c("x.oracleGeneral.bin"), Compression::None);
        assert_eq!(c("gz"), Compression::None);
    }

    const SAMPLE: &[u8] = b"1 2 0 0\n9 1 0 0\n";
    const SAMPLE_KEYS: [u64; 3] = [1, 2, 9];

    fn through(compressed: Vec<u8>, compression: Compression) -> Vec<u64> {
        let input = decompress(Cursor::new(compressed), compression).unwrap();
        TraceReader::new(input, TraceFormat::Arc)
            .map(|r| r.unwrap().key)
            .collect()
    }

    #[test]
    fn decompresses_gzip_xz_zstd() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(SAMPLE).unwrap();
        let gz = gz.finish().unwrap();
        assert_eq!(through(gz.clone(), Compression::Gzip), SAMPLE_KEYS);
        // Two gzip members back to back read as one stream.
        let twice = [gz.clone(), gz].concat();
        assert_eq!(
            through(twice, Compression::Gzip),
            [SAMPLE_KEYS, SAMPLE_KEYS].concat()
        );

        let mut xz = xz2::write::XzEncoder::new(Vec::new(), 6);
        xz.write_all(SAMPLE).unwrap();
        assert_eq!(through(xz.finish().unwrap(), Compression::Xz), SAMPLE_KEYS);

        let zst = zstd::stream::encode_all(SAMPLE, 3).unwrap();
        assert_eq!(through(zst, Compression::Zstd), SAMPLE_KEYS);

        assert_eq!(through(SAMPLE.to_vec(), Compression::None), SAMPLE_KEYS);
    }

    #[test]
    fn corrupt_compressed_input_is_an_error() {
        for compression in [Compression::Gzip, Compression::Xz, Compression::Zstd] {
            let garbage = b"this is not compressed at all".to_vec();
            let result = decompress(Cursor::new(garbage), compression).and_then(|input| {
                TraceReader::new(input, TraceFormat::Lirs).collect::<io::Result<Vec<_>>>()
            });
            assert!(result.is_err(), "{compression:?}");
        }
    }

    #[test]
    fn open_reads_a_compressed_file_and_names_it_in_errors() {
        let dir = std::env::temp_dir();
        let path = dir.join(format!("larder-sim-{}-bad.trace.zst", std::process::id()));
        std::fs::write(
            &path,
            zstd::stream::encode_all(&b"1\n2\noops\n"[..], 3).unwrap(),
        )
        .unwrap();
        let result = load(&path, TraceFormat::Lirs);
        std::fs::remove_file(&path).unwrap();
        let msg = result.unwrap_err().to_string();
        assert!(msg.contains("bad.trace.zst: line 3"), "{msg}");
        let err = load(Path::new("/nonexistent/x.gz"), TraceFormat::Lirs).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(err.to_string().contains("/nonexistent/x.gz"));
    }

    #[test]
    fn load_raises_zero_weights() {
        let path = std::env::temp_dir().join(format!("larder-sim-{}-og.bin", std::process::id()));
        std::fs::write(&path, oracle_record(0, 5, 0, -1)).unwrap();
        let trace = load(&path, TraceFormat::OracleGeneral);
        std::fs::remove_file(&path).unwrap();
        assert_eq!(trace.unwrap(), vec![(5, 1)]);
    }

    fn trace_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("traces")
    }

    fn bundled(name: &str) -> TraceSpec {
        bundled_traces_in(&trace_dir())
            .into_iter()
            .find(|t| t.name == name)
            .unwrap_or_else(|| panic!("no bundled trace {name}"))
    }

    /// (requests, distinct keys) of a whole bundled trace.
    fn count(name: &str) -> (usize, usize) {
        let spec = bundled(name);
        let mut requests = 0;
        let mut distinct = HashSet::new();
        for r in spec.open().unwrap() {
            requests += 1;
            distinct.insert(r.unwrap().key);
        }
        (requests, distinct.len())
    }

    #[test]
    fn every_bundled_trace_opens() {
        let specs = bundled_traces_in(&trace_dir());
        assert_eq!(specs.len(), 33);
        let mut names = HashSet::new();
        for spec in &specs {
            assert!(names.insert(spec.name.clone()), "duplicate {}", spec.name);
            assert!(spec.path.is_file(), "{} missing", spec.path.display());
            assert!(!spec.sizes.is_empty(), "{} has no sizes", spec.name);
            // Read the first few requests only: the big ones take long in debug.
            let first: Vec<Request> = spec
                .open()
                .unwrap()
                .take(100)
                .collect::<io::Result<_>>()
                .unwrap_or_else(|e| panic!("{}: {e}", spec.name));
            assert_eq!(first.len(), 100, "{}", spec.name);
        }
        // Every file under traces/ (but the docs) is in the table.
        let mut files = Vec::new();
        for sub in std::fs::read_dir(trace_dir()).unwrap() {
            let sub = sub.unwrap().path();
            if sub.is_dir() {
                for f in std::fs::read_dir(&sub).unwrap() {
                    files.push(f.unwrap().path());
                }
            }
        }
        for f in files {
            let name = f.file_name().unwrap().to_str().unwrap();
            if name.ends_with(".md") || name.ends_with(".txt") {
                continue;
            }
            assert!(
                specs.iter().any(|s| s.path == f),
                "{} not bundled",
                f.display()
            );
        }
        assert_eq!(default_trace_dir(), trace_dir());
        assert_eq!(bundled_trace("lirs/gli").unwrap(), bundled("lirs/gli"));
    }

    #[test]
    fn small_bundled_traces_match_the_readme() {
        assert_eq!(count("lirs/gli"), (6_015, 2_529));
        assert_eq!(count("lirs/cs"), (6_781, 1_409));
        assert_eq!(count("lirs/loop"), (505_500, 1_011));
        assert_eq!(count("cache2k/web07"), (76_118, 20_484));
        assert_eq!(count("libcachesim/cloudPhysicsIO.bin"), (113_872, 48_974));
        // 113,871 line feeds, but the last line has none: 113,872 requests, as in the
        // binary copy.
        assert_eq!(count("libcachesim/cloudPhysicsIO.txt"), (113_872, 48_974));
        // 66,987 requests for 36,815 ids; keyed by (id, size) there are 40,240.
        assert_eq!(count("adaptsize/request"), (66_987, 40_240));
    }

    #[test]
    fn bundled_binary_and_text_copies_agree() {
        // The .txt holds the .bin's keys, in the same order.
        let bin = bundled("libcachesim/cloudPhysicsIO.bin").load().unwrap();
        let txt = bundled("libcachesim/cloudPhysicsIO.txt").load().unwrap();
        let bin_keys: Vec<u64> = bin.iter().map(|&(k, _)| k).collect();
        let txt_keys: Vec<u64> = txt.iter().map(|&(k, _)| k).collect();
        assert_eq!(bin_keys, txt_keys);
        assert!(txt.iter().all(|&(_, w)| w == 1));
        assert!(bin.iter().all(|&(_, w)| w >= 512 && w % 512 == 0));
    }
}
