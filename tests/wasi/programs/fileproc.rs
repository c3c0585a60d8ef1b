// fileproc.rs - the Rust (wasm32-wasi) build of tests/wasi/programs/fileproc.c:
// the same command, written with std::fs, whose stdout, stderr, exit code and
// output files must be byte-identical to the native C build's.
use std::fs;
use std::io::{ErrorKind, Read, Seek, SeekFrom};
use std::process::exit;

fn isspace(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

// The C library's strerror text for the errors this program meets.
fn msg(e: &std::io::Error) -> String {
    match e.kind() {
        ErrorKind::NotFound => "No such file or directory".to_string(),
        ErrorKind::PermissionDenied => "Permission denied".to_string(),
        ErrorKind::AlreadyExists => "File exists".to_string(),
        _ => format!("{}", e),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 2 {
        eprintln!("usage: fileproc DIR [--exit N]");
        exit(2);
    }
    let dir = &args[1];
    let exit_code = if args.len() > 3 && args[2] == "--exit" {
        args[3].parse::<i32>().unwrap_or(0)
    } else {
        0
    };
    let greeting = std::env::var("GREETING").ok();
    println!("greeting: {}", greeting.as_deref().unwrap_or("(none)"));
    let rd = match fs::read_dir(dir) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("fileproc: cannot open {}: {}", dir, msg(&e));
            exit(1);
        }
    };
    let mut names: Vec<String> = rd
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().into_string().unwrap())
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    let outdir = format!("{}/out", dir);
    match fs::create_dir(&outdir) {
        Ok(_) => {}
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
        Err(e) => {
            eprintln!("fileproc: mkdir out: {}", msg(&e));
            exit(1);
        }
    }
    let tmpname = format!("{}/report.tmp", outdir);
    let mut report = String::new();
    let mut files = 0;
    for name in &names {
        let p = format!("{}/{}", dir, name);
        match fs::metadata(&p) {
            Ok(m) if m.is_file() => {}
            Ok(m) => {
                println!("skip {} ({})", name, if m.is_dir() { "directory" } else { "other" });
                continue;
            }
            Err(_) => {
                println!("skip {} (other)", name);
                continue;
            }
        }
        let data = match fs::read(&p) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("fileproc: {}: {}", name, msg(&e));
                continue;
            }
        };
        let (mut lines, mut words, mut hash, mut inword) = (0u64, 0u64, 2166136261u32, false);
        let mut upper = Vec::with_capacity(data.len());
        for &c in &data {
            hash = (hash ^ c as u32).wrapping_mul(16777619);
            if c == b'\n' {
                lines += 1;
            }
            if isspace(c) {
                inword = false;
            } else if !inword {
                inword = true;
                words += 1;
            }
            upper.push(c.to_ascii_uppercase());
        }
        fs::write(format!("{}/{}.upper", outdir, name), &upper).unwrap();
        println!("{:<16} {:>5} {:>5} {:>6} {:08x}", name, lines, words, data.len(), hash);
        report.push_str(&format!("{} {} {} {} {:08x}\n", name, lines, words, data.len(), hash));
        files += 1;
    }
    report.push_str(&format!("files {}\n", files));
    if let Err(e) = fs::write(&tmpname, &report) {
        eprintln!("fileproc: cannot create report: {}", msg(&e));
        exit(1);
    }
    let fin = format!("{}/report.txt", outdir);
    if let Err(e) = fs::rename(&tmpname, &fin) {
        eprintln!("fileproc: rename: {}", msg(&e));
        exit(1);
    }
    let mut r = fs::File::open(&fin).unwrap();
    let size = r.seek(SeekFrom::End(0)).unwrap();
    r.seek(SeekFrom::Start(if size > 8 { size - 8 } else { 0 })).unwrap();
    let mut tail = [0u8; 8];
    let mut got = 0;
    while got < 8 {
        let n = r.read(&mut tail[got..]).unwrap();
        if n == 0 {
            break;
        }
        got += n;
    }
    let shown: String = tail[..got].iter().map(|&c| if c == b'\n' { '|' } else { c as char }).collect();
    println!("report {} bytes, tail {}: {}", size, got, shown);
    if let Err(e) = fs::File::open(format!("{}/does-not-exist", dir)) {
        println!("missing: {}", msg(&e));
    }
    let scratch = format!("{}/scratch", outdir);
    fs::write(&scratch, "x").unwrap();
    println!("unlink scratch: {}", if fs::remove_file(&scratch).is_ok() { 0 } else { -1 });
    println!(
        "unlink again: {}",
        match fs::remove_file(&scratch) {
            Ok(_) => "ok".to_string(),
            Err(e) => msg(&e),
        }
    );
    eprintln!("fileproc: {} files", files);
    exit(exit_code);
}
