//! Reads the SystemTap SDT notes (`.note.stapsdt`) of an ELF file: which USDT probes a binary
//! carries, with their provider, name, argument format and semaphore.
//!
//! `weir-probe` uses it to tell a binary built without `--features usdt` from one with the
//! probes before it runs bpftrace, and the note-layout tests use it to check what the emitter
//! wrote. 64-bit little-endian ELF only (x86_64 and aarch64 Linux, the emitter's targets).

use std::fmt;

/// One SDT probe site, as its note describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdtNote {
    /// The provider (`weir` for weir's probes).
    pub provider: String,
    /// The probe's name.
    pub name: String,
    /// The argument format: one `size@location` per argument, space-separated.
    pub args: String,
    /// Link-time address of the probe's `nop`.
    pub pc: u64,
    /// Link-time address of `.stapsdt.base` (tracers compute the load bias from it).
    pub base: u64,
    /// Link-time address of the probe's semaphore (0: none).
    pub semaphore: u64,
}

impl SdtNote {
    /// The argument specifications (`8@%rdi`, …), in order.
    pub fn arg_specs(&self) -> impl Iterator<Item = &str> {
        self.args.split_ascii_whitespace()
    }
}

/// Why an ELF file's notes could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ElfError {
    /// The file does not start with the ELF magic.
    NotElf,
    /// An ELF file of a class or byte order this reader does not handle.
    Unsupported(&'static str),
    /// A header or section points outside the file.
    Truncated(&'static str),
    /// An SDT note whose descriptor does not hold three addresses and three strings.
    BadNote {
        /// Byte offset of the note in the file.
        offset: usize,
    },
}

impl fmt::Display for ElfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ElfError::NotElf => f.write_str("not an ELF file"),
            ElfError::Unsupported(what) => write!(f, "unsupported ELF file: {what}"),
            ElfError::Truncated(what) => write!(f, "truncated ELF file: {what} is out of bounds"),
            ElfError::BadNote { offset } => {
                write!(f, "malformed SDT note at file offset {offset:#x}")
            }
        }
    }
}

impl std::error::Error for ElfError {}

const NOTE_NAME: &[u8] = b"stapsdt\0";
const NT_STAPSDT: u32 = 3;
const SHT_NOTE: u32 = 7;

fn slice<'a>(b: &'a [u8], at: usize, len: usize, what: &'static str) -> Result<&'a [u8], ElfError> {
    at.checked_add(len)
        .and_then(|end| b.get(at..end))
        .ok_or(ElfError::Truncated(what))
}

fn u16_at(b: &[u8], at: usize, what: &'static str) -> Result<u16, ElfError> {
    let s = slice(b, at, 2, what)?;
    Ok(u16::from_le_bytes([s[0], s[1]]))
}

fn u32_at(b: &[u8], at: usize, what: &'static str) -> Result<u32, ElfError> {
    let s = slice(b, at, 4, what)?;
    Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn u64_at(b: &[u8], at: usize, what: &'static str) -> Result<u64, ElfError> {
    let s = slice(b, at, 8, what)?;
    let mut a = [0; 8];
    a.copy_from_slice(s);
    Ok(u64::from_le_bytes(a))
}

fn usize_of(v: u64, what: &'static str) -> Result<usize, ElfError> {
    usize::try_from(v).map_err(|_| ElfError::Truncated(what))
}

/// Every SDT note in the ELF image `elf`, in file order.
pub fn sdt_notes(elf: &[u8]) -> Result<Vec<SdtNote>, ElfError> {
    if elf.get(..4) != Some(b"\x7fELF".as_slice()) {
        return Err(ElfError::NotElf);
    }
    match (elf.get(4), elf.get(5)) {
        (Some(2), Some(1)) => {}
        (Some(2), _) => return Err(ElfError::Unsupported("big-endian")),
        _ => return Err(ElfError::Unsupported("32-bit")),
    }
    let shoff = usize_of(u64_at(elf, 0x28, "the ELF header")?, "section headers")?;
    let shentsize = usize::from(u16_at(elf, 0x3a, "the ELF header")?);
    let shnum = usize::from(u16_at(elf, 0x3c, "the ELF header")?);
    let shstrndx = usize::from(u16_at(elf, 0x3e, "the ELF header")?);
    if shentsize < 0x40 && shnum > 0 {
        return Err(ElfError::Unsupported(
            "section header entries under 64 bytes",
        ));
    }
    let header = |i: usize| shoff + i * shentsize;
    let names_off = usize_of(
        u64_at(elf, header(shstrndx) + 0x18, "the section name table")?,
        "the section name table",
    )?;
    let mut notes = Vec::new();
    for i in 0..shnum {
        let h = header(i);
        if u32_at(elf, h + 4, "a section header")? != SHT_NOTE {
            continue;
        }
        let name_at = names_off + u32_at(elf, h, "a section header")? as usize;
        let name = slice(elf, name_at, b".note.stapsdt\0".len(), "a section name");
        if name != Ok(b".note.stapsdt\0".as_slice()) {
            continue;
        }
        let off = usize_of(u64_at(elf, h + 0x18, "a section header")?, "a note section")?;
        let size = usize_of(u64_at(elf, h + 0x20, "a section header")?, "a note section")?;
        read_section(slice(elf, off, size, "a note section")?, off, &mut notes)?;
    }
    Ok(notes)
}

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// The notes of one `SHT_NOTE` section (`file_off`: its offset, for error messages).
fn read_section(sec: &[u8], file_off: usize, out: &mut Vec<SdtNote>) -> Result<(), ElfError> {
    let mut at = 0;
    while at + 12 <= sec.len() {
        let bad = ElfError::BadNote {
            offset: file_off + at,
        };
        let namesz = u32_at(sec, at, "a note header")? as usize;
        let descsz = u32_at(sec, at + 4, "a note header")? as usize;
        let kind = u32_at(sec, at + 8, "a note header")?;
        let name_at = at + 12;
        let desc_at = name_at + align4(namesz);
        let name = slice(sec, name_at, namesz, "a note name")?;
        let desc = slice(sec, desc_at, descsz, "a note descriptor")?;
        at = desc_at + align4(descsz);
        if kind != NT_STAPSDT || name != NOTE_NAME {
            continue;
        }
        if desc.len() < 24 {
            return Err(bad);
        }
        let pc = u64_at(desc, 0, "a note descriptor")?;
        let base = u64_at(desc, 8, "a note descriptor")?;
        let semaphore = u64_at(desc, 16, "a note descriptor")?;
        let mut strings = desc[24..].split(|&b| b == 0);
        let mut next = || {
            strings
                .next()
                .and_then(|s| std::str::from_utf8(s).ok())
                .map(str::to_owned)
                .ok_or_else(|| bad.clone())
        };
        let (provider, name, args) = (next()?, next()?, next()?);
        out.push(SdtNote {
            provider,
            name,
            args,
            pc,
            base,
            semaphore,
        });
    }
    Ok(())
}

/// The SDT notes of the ELF file at `path`.
pub fn sdt_notes_of(path: &std::path::Path) -> std::io::Result<Result<Vec<SdtNote>, ElfError>> {
    Ok(sdt_notes(&std::fs::read(path)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal ELF image: a header, a section name table and one note section holding
    /// `notes` (each a raw note: header, name, descriptor).
    fn elf_with(notes: &[u8]) -> Vec<u8> {
        let shstrtab = b"\0.shstrtab\0.note.stapsdt\0";
        let mut f = vec![0u8; 0x40];
        f[..4].copy_from_slice(b"\x7fELF");
        f[4] = 2;
        f[5] = 1;
        let strtab_off = f.len();
        f.extend_from_slice(shstrtab);
        while f.len() % 8 != 0 {
            f.push(0);
        }
        let notes_off = f.len();
        f.extend_from_slice(notes);
        while f.len() % 8 != 0 {
            f.push(0);
        }
        let shoff = f.len();
        let mut sh = |name: u32, kind: u32, off: usize, size: usize| {
            let mut h = [0u8; 0x40];
            h[0..4].copy_from_slice(&name.to_le_bytes());
            h[4..8].copy_from_slice(&kind.to_le_bytes());
            h[0x18..0x20].copy_from_slice(&(off as u64).to_le_bytes());
            h[0x20..0x28].copy_from_slice(&(size as u64).to_le_bytes());
            f.extend_from_slice(&h);
        };
        sh(0, 0, 0, 0);
        sh(1, 3, strtab_off, shstrtab.len());
        sh(11, SHT_NOTE, notes_off, notes.len());
        f[0x28..0x30].copy_from_slice(&(shoff as u64).to_le_bytes());
        f[0x3a..0x3c].copy_from_slice(&0x40u16.to_le_bytes());
        f[0x3c..0x3e].copy_from_slice(&3u16.to_le_bytes());
        f[0x3e..0x40].copy_from_slice(&1u16.to_le_bytes());
        f
    }

    fn note(pc: u64, sem: u64, strings: &[&str]) -> Vec<u8> {
        let mut desc = Vec::new();
        for v in [pc, 0x1000, sem] {
            desc.extend_from_slice(&v.to_le_bytes());
        }
        for s in strings {
            desc.extend_from_slice(s.as_bytes());
            desc.push(0);
        }
        let mut n = Vec::new();
        n.extend_from_slice(&8u32.to_le_bytes());
        n.extend_from_slice(&(desc.len() as u32).to_le_bytes());
        n.extend_from_slice(&NT_STAPSDT.to_le_bytes());
        n.extend_from_slice(NOTE_NAME);
        n.extend_from_slice(&desc);
        while n.len() % 4 != 0 {
            n.push(0);
        }
        n
    }

    #[test]
    fn reads_notes_in_order() {
        let mut raw = note(0x4000, 0x9000, &["weir", "poll_start", "8@%rdi 8@%rsi"]);
        raw.extend(note(
            0x4010,
            0x9002,
            &["weir", "poll_end", "8@%rdi 8@%rsi 8@%rax"],
        ));
        let notes = sdt_notes(&elf_with(&raw)).unwrap();
        assert_eq!(notes.len(), 2);
        assert_eq!(notes[0].provider, "weir");
        assert_eq!(notes[0].name, "poll_start");
        assert_eq!(notes[0].pc, 0x4000);
        assert_eq!(notes[0].base, 0x1000);
        assert_eq!(notes[0].semaphore, 0x9000);
        assert_eq!(notes[1].arg_specs().count(), 3);
    }

    #[test]
    fn refuses_what_is_not_an_elf_file() {
        assert_eq!(sdt_notes(b"#!/bin/sh\n"), Err(ElfError::NotElf));
        let mut elf = elf_with(&[]);
        elf[4] = 1;
        assert_eq!(sdt_notes(&elf), Err(ElfError::Unsupported("32-bit")));
        assert!(sdt_notes(&elf_with(&[])).unwrap().is_empty());
    }

    #[test]
    fn a_truncated_note_is_an_error_not_a_panic() {
        let raw = note(0x4000, 0x9000, &["weir", "poll_start", "8@%rdi"]);
        let elf = elf_with(&raw);
        // Cut the file inside the note section.
        let cut = elf.len() - 3 * 0x40 - 20;
        assert!(sdt_notes(&elf[..cut]).is_err());
        // A descriptor too short for its three addresses.
        let mut short = Vec::new();
        short.extend_from_slice(&8u32.to_le_bytes());
        short.extend_from_slice(&8u32.to_le_bytes());
        short.extend_from_slice(&NT_STAPSDT.to_le_bytes());
        short.extend_from_slice(NOTE_NAME);
        short.extend_from_slice(&[0; 8]);
        assert!(matches!(
            sdt_notes(&elf_with(&short)),
            Err(ElfError::BadNote { .. })
        ));
    }

    /// The emitter's own notes, read back from this test binary (built with `usdt`): one note
    /// per probe site, every probe of the vocabulary present, each with the table's argument
    /// count, 8-byte arguments and the probe's shared semaphore.
    #[cfg(all(feature = "usdt", weir_usdt))]
    #[test]
    fn this_binary_carries_one_note_per_probe_with_the_table_layout() {
        use crate::{table, Event, Probe};
        // Keep the emitting code linked into this test binary.
        if std::hint::black_box(false) {
            crate::dispatch(Event::PollStart);
        }
        let exe = std::env::current_exe().unwrap();
        let notes = sdt_notes_of(&exe).unwrap().unwrap();
        let weir: Vec<_> = notes.iter().filter(|n| n.provider == "weir").collect();
        for probe in Probe::ALL {
            let sites: Vec<_> = weir.iter().filter(|n| n.name == probe.name()).collect();
            assert!(!sites.is_empty(), "no note for {}", probe.name());
            for n in &sites {
                let specs: Vec<_> = n.arg_specs().collect();
                assert_eq!(
                    specs.len(),
                    table::doc(probe).arg_count(),
                    "{}: {}",
                    n.name,
                    n.args
                );
                assert!(specs.iter().all(|s| s.starts_with("8@")), "{}", n.args);
                assert_ne!(n.semaphore, 0, "{} has no semaphore", n.name);
                assert_eq!(n.semaphore, sites[0].semaphore, "{}: one semaphore", n.name);
            }
        }
        // Semaphores are consecutive u16s in probe order, in one page.
        let sem = |p: Probe| weir.iter().find(|n| n.name == p.name()).unwrap().semaphore;
        let first = sem(Probe::ALL[0]);
        assert_eq!(first % 4096, 0, "the semaphore page is page-aligned");
        for (i, p) in Probe::ALL.iter().enumerate() {
            assert_eq!(sem(*p), first + 2 * i as u64, "{}", p.name());
        }
    }
}
