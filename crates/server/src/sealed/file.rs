//! [`SealedFile`]: a sealed file on disk seen as its plaintext, with `Read`, `Write`, `Seek`
//! and `set_len` — so the WAV writer and the crash repair run over it unchanged — and
//! [`StoredFile`], a file that is either sealed or plaintext (found by its magic).
//!
//! Chunks are kept in memory only while they can still change: chunk 0 (the WAV header is
//! rewritten on every flush) and the last chunk (it grows). A chunk that fills up and is no
//! longer last is sealed and written at once, so memory stays bounded however much is
//! written between flushes. `flush` seals every changed chunk with a fresh nonce, the last
//! one with the "last" flag, and writes it at its slot.
//!
//! Crash repair ([`SealedFile::open_to_repair`]) keeps the chunks that open, in order, and
//! drops the first one that does not (a torn write) and everything after it: the file then
//! ends at its last good chunk, which is sealed again as the last.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;

use callrec_media::wav::SetLen;

use super::format::{Chunks, Header, SealedError, HEADER_LEN, MAGIC, OVERHEAD};
use super::key::MasterKey;

struct Cached {
    data: Vec<u8>,
    dirty: bool,
}

/// A sealed file read and written as its plaintext.
pub struct SealedFile {
    file: File,
    chunks: Chunks,
    /// Plaintext length (including what is not flushed yet).
    len: u64,
    /// Plaintext cursor.
    pos: u64,
    /// The chunks held in memory: always 0 and the last one, plus changed ones not yet written.
    cache: BTreeMap<u64, Cached>,
    /// Chunks the file on disk holds (as last written); beyond it nothing is on disk.
    on_disk: u64,
    /// The plaintext got shorter: the file is cut at the next flush.
    shrunk: bool,
    /// The chunk on disk sealed with the "last" flag, if any (how to open it again).
    sealed_last: Option<u64>,
}

impl std::fmt::Debug for SealedFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealedFile")
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

fn invalid(e: SealedError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

/// The [`SealedError`] inside an I/O error from a sealed file, if it is one.
pub fn sealed_error(e: &io::Error) -> Option<&SealedError> {
    e.get_ref().and_then(|inner| inner.downcast_ref::<SealedError>())
}

impl SealedFile {
    /// Writes a new sealed header (fresh data key under `master`) into the empty `file`; the
    /// plaintext is empty.
    pub fn create(file: File, master: &MasterKey) -> io::Result<SealedFile> {
        let (header, chunks) = Header::new(master);
        file.set_len(0)?;
        file.write_all_at(&header.encode(), 0)?;
        let mut cache = BTreeMap::new();
        cache.insert(
            0,
            Cached {
                data: Vec::new(),
                dirty: true,
            },
        );
        let mut f = SealedFile {
            file,
            chunks,
            len: 0,
            pos: 0,
            cache,
            on_disk: 0,
            shrunk: false,
            sealed_last: None,
        };
        f.flush()?;
        Ok(f)
    }

    fn header(file: &File, master: &MasterKey) -> io::Result<Chunks> {
        let mut head = [0u8; HEADER_LEN as usize];
        file.read_exact_at(&mut head, 0)
            .map_err(|_| invalid(SealedError::Truncated))?;
        Header::parse(&head).and_then(|h| h.open(master)).map_err(invalid)
    }

    /// Opens a finished (or flushed) sealed file; its shape, chunk 0 and last chunk are checked
    /// now, every other chunk when it is read.
    pub fn open(file: File, master: &MasterKey) -> io::Result<SealedFile> {
        let chunks = Self::header(&file, master)?;
        let len = chunks.plain_len(file.metadata()?.len()).map_err(invalid)?;
        let n = chunks.count(len);
        let mut f = SealedFile {
            file,
            chunks,
            len,
            pos: 0,
            cache: BTreeMap::new(),
            on_disk: n,
            shrunk: false,
            sealed_last: Some(n - 1),
        };
        f.load(0)?;
        f.load(n - 1)?;
        Ok(f)
    }

    /// Opens a sealed file a crash cut off: keeps every chunk that opens, in order, up to the
    /// first that does not; the last kept one is sealed as the last at the next flush. A chunk
    /// that opens only with the wrong "last" flag (the crash fell between two writes of one
    /// flush) is kept and sealed again. Fails only when the header or chunk 0 is unreadable.
    pub fn open_to_repair(file: File, master: &MasterKey) -> io::Result<SealedFile> {
        let chunks = Self::header(&file, master)?;
        let file_len = file.metadata()?.len();
        let mut f = SealedFile {
            file,
            chunks,
            len: 0,
            pos: 0,
            cache: BTreeMap::new(),
            on_disk: 0,
            shrunk: true,
            sealed_last: None,
        };
        let mut i = 0u64;
        // The last chunk that opened: sealed again as the last one.
        let mut tail = None;
        loop {
            let at = f.chunks.offset(i);
            if at + OVERHEAD > file_len {
                break;
            }
            let size = (f.chunks.cap(i) + OVERHEAD).min(file_len - at);
            let mut buf = vec![0u8; size as usize];
            f.file.read_exact_at(&mut buf, at)?;
            let last_in_file = at + size == file_len;
            let opened = [last_in_file, !last_in_file]
                .into_iter()
                .find_map(|flag| f.chunks.open(i, flag, &buf).ok().map(|p| (p, flag)));
            let Some((plain, flag)) = opened else { break };
            let full = plain.len() as u64 == f.chunks.cap(i);
            f.len = f.chunks.start(i) + plain.len() as u64;
            f.on_disk = i + 1;
            if flag || i == 0 {
                // Chunk 0 is always held; a chunk sealed as last that is not (the crash fell
                // between two writes of one flush) is sealed again.
                f.cache.insert(
                    i,
                    Cached {
                        data: plain.clone(),
                        dirty: true,
                    },
                );
            }
            tail = Some((i, plain));
            if !full {
                break;
            }
            i += 1;
        }
        let Some((last, data)) = tail else {
            return Err(invalid(SealedError::ChunkAltered { index: 0 }));
        };
        f.cache.insert(last, Cached { data, dirty: true });
        Ok(f)
    }

    /// The plaintext length.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the plaintext is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The file underneath (to `sync_data` it).
    pub fn get_ref(&self) -> &File {
        &self.file
    }

    fn last(&self) -> u64 {
        self.chunks.count(self.len) - 1
    }

    /// Reads and opens chunk `i` from disk into the cache (if not there already).
    fn load(&mut self, i: u64) -> io::Result<()> {
        if self.cache.contains_key(&i) {
            return Ok(());
        }
        let data = if i < self.on_disk {
            self.read_chunk(i, self.sealed_last == Some(i))?
        } else {
            Vec::new()
        };
        self.cache.insert(i, Cached { data, dirty: false });
        Ok(())
    }

    fn read_chunk(&self, i: u64, last: bool) -> io::Result<Vec<u8>> {
        let at = self.chunks.offset(i);
        let size = if last {
            self.file.metadata()?.len().saturating_sub(at)
        } else {
            self.chunks.cap(i) + OVERHEAD
        };
        let mut buf = vec![0u8; size as usize];
        self.file
            .read_exact_at(&mut buf, at)
            .map_err(|_| invalid(SealedError::Truncated))?;
        let n = self.chunks.open_in_place(i, last, &mut buf).map_err(invalid)?;
        if !last && n as u64 != self.chunks.cap(i) {
            return Err(invalid(SealedError::ChunkAltered { index: i }));
        }
        buf.truncate(super::format::NONCE_LEN + n);
        buf.drain(..super::format::NONCE_LEN);
        Ok(buf)
    }

    fn write_chunk(&mut self, i: u64) -> io::Result<()> {
        let last = i == self.last();
        let Some(c) = self.cache.get_mut(&i) else { return Ok(()) };
        if !c.dirty {
            return Ok(());
        }
        let sealed = self.chunks.seal(i, last, &c.data);
        self.file.write_all_at(&sealed, self.chunks.offset(i))?;
        c.dirty = false;
        if last {
            self.sealed_last = Some(i);
        } else if self.sealed_last == Some(i) {
            self.sealed_last = None;
        }
        self.on_disk = self.on_disk.max(i + 1);
        Ok(())
    }

    /// Seals and writes full chunks that are neither chunk 0 nor the last, and forgets them.
    fn evict(&mut self) -> io::Result<()> {
        let last = self.last();
        let done: Vec<u64> = self
            .cache
            .iter()
            .filter(|(i, c)| **i != 0 && **i < last && c.data.len() as u64 == self.chunks.cap(**i))
            .map(|(i, _)| *i)
            .collect();
        for i in done {
            self.write_chunk(i)?;
            self.cache.remove(&i);
        }
        Ok(())
    }

    fn grow_to(&mut self, new_len: u64) -> io::Result<()> {
        // The old last chunk is no longer last: its flag changes, so it is sealed again.
        let old_last = self.last();
        if self.chunks.count(new_len) - 1 > old_last {
            self.load(old_last)?;
            if let Some(c) = self.cache.get_mut(&old_last) {
                c.dirty = true;
            }
        }
        Ok(())
    }

    fn write_at(&mut self, mut pos: u64, mut buf: &[u8]) -> io::Result<()> {
        if pos > self.len {
            let zeros = vec![0u8; (pos - self.len).min(1 << 20) as usize];
            while self.len < pos {
                let n = ((pos - self.len) as usize).min(zeros.len());
                self.write_at(self.len, &zeros[..n])?;
            }
        }
        while !buf.is_empty() {
            let i = self.chunks.index_of(pos);
            let start = self.chunks.start(i);
            let cap = self.chunks.cap(i);
            let off = (pos - start) as usize;
            let n = buf.len().min((cap as usize) - off);
            let end = pos + n as u64;
            if end > self.len {
                self.grow_to(end)?;
            }
            self.load(i)?;
            let c = self.cache.get_mut(&i).expect("just loaded");
            if c.data.len() < off + n {
                c.data.resize(off + n, 0);
            }
            c.data[off..off + n].copy_from_slice(&buf[..n]);
            c.dirty = true;
            self.len = self.len.max(end);
            pos = end;
            buf = &buf[n..];
        }
        self.evict()
    }

    fn read_at(&mut self, pos: u64, buf: &mut [u8]) -> io::Result<usize> {
        if pos >= self.len || buf.is_empty() {
            return Ok(0);
        }
        let i = self.chunks.index_of(pos);
        let off = (pos - self.chunks.start(i)) as usize;
        let data = match self.cache.get(&i) {
            Some(c) => std::borrow::Cow::Borrowed(&c.data),
            None => std::borrow::Cow::Owned(self.read_chunk(i, self.sealed_last == Some(i))?),
        };
        let n = buf.len().min(data.len().saturating_sub(off));
        buf[..n].copy_from_slice(&data[off..off + n]);
        Ok(n)
    }
}

impl Read for SealedFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.read_at(self.pos, buf)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Write for SealedFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_at(self.pos, buf)?;
        self.pos += buf.len() as u64;
        Ok(buf.len())
    }

    /// Seals and writes every changed chunk; the last one carries the "last" flag.
    fn flush(&mut self) -> io::Result<()> {
        let dirty: Vec<u64> = self.cache.iter().filter(|(_, c)| c.dirty).map(|(i, _)| *i).collect();
        // The last chunk goes last: until it is written the file ends at the previous state's
        // last chunk, which a repair reads back.
        for i in dirty {
            self.write_chunk(i)?;
        }
        if self.shrunk {
            self.file.set_len(self.chunks.sealed_len(self.len))?;
            self.on_disk = self.chunks.count(self.len);
            self.shrunk = false;
        }
        Ok(())
    }
}

impl Seek for SealedFile {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let new = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = new.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?;
        Ok(self.pos)
    }
}

impl SetLen for SealedFile {
    fn set_len(&mut self, len: u64) -> io::Result<()> {
        if len > self.len {
            return self.write_at(self.len, &[]).and_then(|()| {
                let zeros = vec![0u8; (len - self.len) as usize];
                self.write_at(self.len, &zeros)
            });
        }
        if len == self.len {
            return Ok(());
        }
        let last = self.chunks.count(len) - 1;
        self.load(last)?;
        self.cache.retain(|i, _| *i <= last);
        let keep = (len - self.chunks.start(last)) as usize;
        let c = self.cache.get_mut(&last).expect("just loaded");
        c.data.truncate(keep);
        c.dirty = true;
        self.len = len;
        self.shrunk = true;
        Ok(())
    }
}

/// A recording or journal file as stored: plaintext (no key, or written before the key was
/// set) or sealed. Both read and write as plaintext.
#[derive(Debug)]
pub enum StoredFile {
    /// A plaintext file.
    Plain(File),
    /// A sealed file.
    Sealed(Box<SealedFile>),
}

impl StoredFile {
    /// A new empty file in `file`: sealed when a key is given.
    pub fn create(file: File, key: Option<&MasterKey>) -> io::Result<StoredFile> {
        Ok(match key {
            Some(k) => StoredFile::Sealed(Box::new(SealedFile::create(file, k)?)),
            None => StoredFile::Plain(file),
        })
    }

    /// An existing file, sealed or not by its first bytes; a sealed one needs `key`.
    pub fn open(file: File, key: Option<&MasterKey>, repair: bool) -> io::Result<StoredFile> {
        let mut magic = [0u8; MAGIC.len()];
        let sealed = file.read_exact_at(&mut magic, 0).is_ok() && magic == MAGIC;
        if !sealed {
            return Ok(StoredFile::Plain(file));
        }
        let key = key.ok_or_else(|| invalid(SealedError::NoKey))?;
        Ok(StoredFile::Sealed(Box::new(if repair {
            SealedFile::open_to_repair(file, key)?
        } else {
            SealedFile::open(file, key)?
        })))
    }

    /// The file underneath (to sync it).
    pub fn get_ref(&self) -> &File {
        match self {
            StoredFile::Plain(f) => f,
            StoredFile::Sealed(s) => s.get_ref(),
        }
    }

    /// The plaintext length.
    pub fn plain_len(&self) -> io::Result<u64> {
        match self {
            StoredFile::Plain(f) => Ok(f.metadata()?.len()),
            StoredFile::Sealed(s) => Ok(s.len()),
        }
    }

    /// Whether the file is sealed.
    pub fn is_sealed(&self) -> bool {
        matches!(self, StoredFile::Sealed(_))
    }
}

impl Read for StoredFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            StoredFile::Plain(f) => f.read(buf),
            StoredFile::Sealed(s) => s.read(buf),
        }
    }
}

impl Write for StoredFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            StoredFile::Plain(f) => f.write(buf),
            StoredFile::Sealed(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            StoredFile::Plain(f) => f.flush(),
            StoredFile::Sealed(s) => s.flush(),
        }
    }
}

impl Seek for StoredFile {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        match self {
            StoredFile::Plain(f) => f.seek(to),
            StoredFile::Sealed(s) => s.seek(to),
        }
    }
}

impl SetLen for StoredFile {
    fn set_len(&mut self, len: u64) -> io::Result<()> {
        match self {
            StoredFile::Plain(f) => f.set_len(len),
            StoredFile::Sealed(s) => SetLen::set_len(&mut **s, len),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sealed::format::open_bytes;
    use callrec_media::g711::Law;
    use callrec_media::wav::{repair, WavFile, WavInfo, WavWriter};

    fn key() -> MasterKey {
        MasterKey::from_bytes([9; 32])
    }

    fn rw(path: &std::path::Path) -> File {
        std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(path)
            .expect("open")
    }

    fn audio(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i % 200) as u8 + 20).collect()
    }

    /// A growing WAV written through a sealed file equals the same WAV written in plaintext,
    /// after every flush and at the end.
    #[test]
    fn a_growing_wav_reads_back_as_the_plaintext_wav() {
        let dir = tempfile::tempdir().expect("dir");
        let k = key();
        let sealed = SealedFile::create(rw(&dir.path().join("s")), &k).expect("create");
        let mut s = WavFile::create(sealed, WavWriter::stereo(Law::Ulaw, 8000).expect("fmt")).expect("wav");
        let mut p = WavFile::create(
            std::io::Cursor::new(Vec::new()),
            WavWriter::stereo(Law::Ulaw, 8000).expect("fmt"),
        )
        .expect("wav");
        let a = audio(16_000 * 5 + 302);
        for piece in a.chunks(16_000 - 2 * 7) {
            s.write_frames(piece).expect("write");
            p.write_frames(piece).expect("write");
            s.flush().expect("flush");
            p.flush().expect("flush");
            let on_disk = std::fs::read(dir.path().join("s")).expect("read");
            assert_eq!(
                open_bytes(&k, &on_disk).expect("a flushed file opens whole"),
                *p.get_ref().get_ref(),
                "after each flush the sealed file is the plaintext WAV"
            );
        }
        let plain = p.finish().expect("finish").into_inner();
        s.finish().expect("finish");
        let on_disk = std::fs::read(dir.path().join("s")).expect("read");
        assert!(!on_disk.windows(4).any(|w| w == b"RIFF"), "no plaintext on disk");
        assert_eq!(open_bytes(&k, &on_disk).expect("opens"), plain, "byte-exact");

        // Random reads through the reader path.
        let mut r = SealedFile::open(rw(&dir.path().join("s")), &k).expect("open");
        assert_eq!(r.len(), plain.len() as u64, "plaintext length");
        for (from, n) in [
            (0u64, 58usize),
            (60, 10),
            (64 + 16384 - 3, 9),
            (30_000, 50_000),
            (plain.len() as u64 - 5, 20),
        ] {
            r.seek(SeekFrom::Start(from)).expect("seek");
            let mut got = vec![0u8; n];
            let k = r.read(&mut got).expect("read");
            let mut total = k;
            while total < n {
                let k = r.read(&mut got[total..]).expect("read");
                if k == 0 {
                    break;
                }
                total += k;
            }
            let end = (from as usize + n).min(plain.len());
            assert_eq!(&got[..total], &plain[from as usize..end], "range {from}+{n}");
        }
    }

    /// A crash leaves a torn last chunk (or none written after the header rewrite): the
    /// repair keeps every whole chunk and the WAV repair then covers exactly that audio.
    #[test]
    fn a_torn_tail_is_dropped_and_the_rest_repaired() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("s");
        let k = key();
        let sealed = SealedFile::create(rw(&path), &k).expect("create");
        let mut s = WavFile::create(sealed, WavWriter::stereo(Law::Ulaw, 8000).expect("fmt")).expect("wav");
        let a = audio(16_000 * 3);
        s.write_frames(&a).expect("write");
        s.flush().expect("flush");
        drop(s); // a crash: nothing more is written
        let whole = std::fs::read(&path).expect("read");
        for cut in [0usize, 1, 17, 40, 1000] {
            std::fs::write(&path, &whole[..whole.len() - cut]).expect("tear");
            let mut f = SealedFile::open_to_repair(rw(&path), &k).expect("repairable");
            let report = repair(&mut f).expect("wav repair");
            SetLen::set_len(&mut f, report.file_len).expect("cut");
            f.flush().expect("flush");
            let fixed = open_bytes(&k, &std::fs::read(&path).expect("read")).expect("a repaired file opens strictly");
            let info = WavInfo::parse(&fixed).expect("valid wav");
            assert_eq!(info.data_len as usize, fixed.len() - 58, "header covers the audio kept");
            assert_eq!(
                &fixed[58..],
                &a[..fixed.len() - 58],
                "the audio kept is the audio written"
            );
            if cut == 0 {
                assert_eq!(fixed.len(), 58 + a.len(), "nothing lost without a tear");
            }
        }
    }

    #[test]
    fn stored_file_detects_plaintext_and_shrinks() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("p");
        std::fs::write(&path, b"RIFF plain").expect("write");
        let f = StoredFile::open(rw(&path), Some(&key()), false).expect("open");
        assert!(!f.is_sealed(), "plaintext stays plaintext");
        let mut s = StoredFile::create(rw(&dir.path().join("s")), Some(&key())).expect("create");
        s.write_all(&audio(40_000)).expect("write");
        s.set_len(20_000).expect("shrink");
        s.flush().expect("flush");
        let back = open_bytes(&key(), &std::fs::read(dir.path().join("s")).expect("read")).expect("opens");
        assert_eq!(back, audio(40_000)[..20_000], "shrunk to the prefix");
        assert!(
            matches!(
                StoredFile::open(rw(&dir.path().join("s")), None, false).map_err(|e| sealed_error(&e).cloned()),
                Err(Some(SealedError::NoKey))
            ),
            "a sealed file without a key is refused"
        );
    }
}
