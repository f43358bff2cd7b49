//! WAV: header parsing, PCM16 range transcoding against a whole-file reference, crash
//! repair (whose result must parse with the length it reports), and the upload size check
//! (whose result's header must describe the file).
#![no_main]

use std::io::Cursor;

use callrec_media::wav::{check_upload, repair, Pcm16Transcoder, WavInfo};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = WavInfo::parse(data);
    if let Ok(info) = WavInfo::parse_with_file_len(data, data.len() as u64) {
        assert!(info.data_end() <= data.len() as u64, "data inside the file");
        assert_eq!(info.data_len % u64::from(info.block_align), 0, "whole frames");
        if let Ok(t) = Pcm16Transcoder::new(&info) {
            // Serve the whole output in odd-sized chunks; compare with a direct conversion.
            let law = info.codec.law().expect("G.711");
            let mut whole = t.header().to_vec();
            let src = &data[info.data_offset as usize..info.data_end() as usize];
            for &b in src {
                whole.extend_from_slice(&law.decode(b).to_le_bytes());
            }
            let mut pos = (data.len() % 7) as u64;
            let mut buf = [0u8; 13];
            while pos < t.output_len() {
                let n = buf.len().min((t.output_len() - pos) as usize);
                let r = t.source_range(pos..pos + n as u64);
                let w = t.fill(pos, &data[r.start as usize..r.end as usize], &mut buf[..n]);
                assert_eq!(&buf[..w], &whole[pos as usize..pos as usize + w], "range matches");
                assert!(w > 0, "progress");
                pos += w as u64;
            }
        }
    }
    let mut file = Cursor::new(data.to_vec());
    if let Ok(report) = check_upload(&mut file) {
        let mut bytes = file.into_inner();
        bytes.truncate(report.file_len as usize);
        assert_eq!(bytes.len() as u64, report.file_len, "the checked length is in the file");
        let riff = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
        assert_eq!(u64::from(riff) + 8, report.file_len, "the RIFF size is the file");
        let info = WavInfo::parse(&bytes).expect("a checked upload parses without the file length");
        assert_eq!(info.data_len, report.info.data_len, "the header says what was checked");
    }
    let mut file = Cursor::new(data.to_vec());
    if let Ok(report) = repair(&mut file) {
        let mut bytes = file.into_inner();
        bytes.truncate(report.file_len as usize);
        let info = WavInfo::parse_with_file_len(&bytes, bytes.len() as u64).expect("repaired file parses");
        assert_eq!(info.data_len, report.info.data_len, "repaired length holds");
    }
});
