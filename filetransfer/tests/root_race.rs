//! `Root::open` against a file system that changes under it (finding 1).
//!
//! A thread keeps swapping `root/d` between a real directory and a symlink to a
//! directory outside the root, while the test opens `d/f` again and again. The old
//! check-then-open-by-name code leaked the outside file a few times in a few thousand
//! tries; the component-by-component `openat` walk must never.

use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use filetransfer::jail::Root;

#[test]
fn a_directory_swapped_for_a_symlink_never_leads_outside() {
    let top = std::env::temp_dir().join(format!("ft-race-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&top);
    let root = top.join("root");
    let outside = top.join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::create_dir_all(root.join("realdir")).unwrap();
    std::fs::write(outside.join("f"), b"OUTSIDE").unwrap();
    std::fs::write(root.join("realdir/f"), b"inside").unwrap();
    std::os::unix::fs::symlink(&outside, root.join("linkdir")).unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let swapper = {
        let (stop, root) = (Arc::clone(&stop), root.clone());
        std::thread::spawn(move || {
            let d: PathBuf = root.join("d");
            let mut swaps = 0u64;
            while !stop.load(Ordering::Relaxed) {
                for name in ["realdir", "linkdir"] {
                    let from = root.join(name);
                    std::fs::rename(&from, &d).unwrap();
                    std::fs::rename(&d, &from).unwrap();
                    swaps += 1;
                }
            }
            swaps
        })
    };

    let served = Root::new(&root).unwrap();
    let (mut inside, mut refused) = (0u32, 0u32);
    let start = Instant::now();
    let mut tries = 0u32;
    while tries < 200_000 && start.elapsed() < Duration::from_secs(5) {
        tries += 1;
        match served.open(b"d/f") {
            Ok(mut file) => {
                let mut data = Vec::new();
                file.read_to_end(&mut data).unwrap();
                assert_ne!(
                    data, b"OUTSIDE",
                    "try {tries}: served a file outside the root"
                );
                assert_eq!(data, b"inside");
                inside += 1;
            }
            Err(_) => refused += 1,
        }
    }
    stop.store(true, Ordering::Relaxed);
    let swaps = swapper.join().unwrap();
    let _ = std::fs::remove_dir_all(&top);
    eprintln!("{tries} tries: {inside} served from inside, {refused} refused; {swaps} swaps");
    assert!(swaps > 0, "the swapping thread never ran");
}
