//! Images through a detection run one at a time: [`for_each_image`] loads an image, hands it to
//! the work that consumes it (detect, draw, write) and only then loads the next, so peak memory
//! holds one decoded image whatever the number of files. A file that fails (unreadable, over the
//! pixel cap, or its work failing) is reported and skipped; the others are still processed.

use std::path::{Path, PathBuf};

use crate::error::Error;

/// What a run of [`for_each_image`] did: how many files were processed and, in order, the files
/// that failed with their errors.
#[derive(Debug, Default)]
pub struct StreamReport {
    /// Files loaded and processed without error.
    pub processed: usize,
    /// Files skipped, each with the error that stopped it (the error names the file).
    pub failures: Vec<(PathBuf, Error)>,
}

/// For each path in turn: `load` it, then give the loaded value to `process`, which takes it by
/// value, so it is dropped before the next file is loaded. A load or process error is passed to
/// `on_failure` as it happens, kept in the report, and the next path goes on.
pub fn for_each_image<T>(
    paths: &[PathBuf],
    mut load: impl FnMut(&Path) -> crate::Result<T>,
    mut process: impl FnMut(&Path, T) -> crate::Result<()>,
    mut on_failure: impl FnMut(&Path, &Error),
) -> StreamReport {
    let mut report = StreamReport::default();
    for path in paths {
        match load(path).and_then(|loaded| process(path, loaded)) {
            Ok(()) => report.processed += 1,
            Err(error) => {
                on_failure(path, &error);
                report.failures.push((path.clone(), error));
            }
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::rc::Rc;

    /// A stand-in for a decoded image that counts how many are alive.
    struct Counted(Rc<Cell<usize>>);

    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.set(self.0.get() - 1);
        }
    }

    #[test]
    fn one_image_is_alive_at_a_time_and_failures_are_skipped() {
        let live = Rc::new(Cell::new(0usize));
        let most_live = Cell::new(0usize);
        let paths: Vec<PathBuf> = ["a.png", "bad.png", "c.jpg", "d.jpg", "fails.jpg"]
            .map(PathBuf::from)
            .to_vec();
        let mut reported = Vec::new();
        let report = for_each_image(
            &paths,
            |path| {
                if path.ends_with("bad.png") {
                    return Err(Error::io(path, std::io::Error::other("unreadable")));
                }
                live.set(live.get() + 1);
                most_live.set(most_live.get().max(live.get()));
                Ok(Counted(live.clone()))
            },
            |path, image| {
                assert_eq!(live.get(), 1, "only {path:?}'s image is decoded");
                drop(image);
                if path.ends_with("fails.jpg") {
                    return Err(Error::io(path, std::io::Error::other("cannot write")));
                }
                Ok(())
            },
            |path, _| reported.push(path.to_path_buf()),
        );
        assert_eq!(most_live.get(), 1);
        assert_eq!(live.get(), 0);
        assert_eq!(report.processed, 3);
        let failed: Vec<_> = report
            .failures
            .iter()
            .map(|(path, _)| path.clone())
            .collect();
        assert_eq!(
            failed,
            [PathBuf::from("bad.png"), PathBuf::from("fails.jpg")]
        );
        assert_eq!(reported, failed);
        assert!(report.failures[0].1.to_string().contains("bad.png"));
    }
}
