//! From `--input`/`--output` to a list of jobs: which source goes to which target.
//!
//! As in aws-encryption-cli: a file may go to a file, a directory (named after the input plus
//! the suffix) or stdout; `-` reads stdin; a directory input needs `--recursive` and a directory
//! output, whose tree mirrors the input's; several inputs need a directory output. Unlike it,
//! existing outputs are kept unless `--overwrite`, and a target that is its own source, or the
//! target of two sources, is refused before anything is written.

use std::collections::HashSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::exit_code::Failure;

/// Where a job reads from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Standard input.
    Stdin,
    /// A regular file.
    File(PathBuf),
}

/// Where a job writes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Standard output.
    Stdout,
    /// A file (written to a temporary file, unnamed on Linux, and named only on success).
    File(PathBuf),
}

/// One message to encrypt or decrypt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// The input.
    pub source: Source,
    /// The output.
    pub target: Target,
}

/// What the planner needs to know.
#[derive(Debug, Clone)]
pub struct PlanRequest<'a> {
    /// `--input` values.
    pub inputs: &'a [PathBuf],
    /// `--output`.
    pub output: &'a Path,
    /// `--recursive`.
    pub recursive: bool,
    /// The suffix for outputs named after inputs.
    pub suffix: &'a str,
    /// `--overwrite`.
    pub overwrite: bool,
}

fn is_dash(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Plans the jobs, or says why the request cannot be carried out (nothing has been written).
pub fn plan(request: &PlanRequest<'_>) -> Result<Vec<Job>, Failure> {
    let output = request.output;
    let stdin_inputs = request.inputs.iter().filter(|input| is_dash(input)).count();
    if stdin_inputs > 0 && request.inputs.len() > 1 {
        return Err(Failure::usage("--input -: stdin cannot be combined with other inputs"));
    }
    for input in request.inputs.iter().filter(|input| !is_dash(input)) {
        let metadata = std::fs::metadata(input)
            .map_err(|error| Failure::files(format!("cannot read {}: {error}", input.display())))?;
        if metadata.is_dir() && !request.recursive {
            return Err(Failure::usage(format!("{} is a directory; add --recursive to process it", input.display())));
        }
    }
    let any_directory_input = request.inputs.iter().any(|input| !is_dash(input) && input.is_dir());
    let output_is_directory = !is_dash(output)
        && (output.is_dir()
            || any_directory_input
            || request.inputs.len() > 1
            || output.as_os_str().to_string_lossy().ends_with('/'));
    if is_dash(output) && (any_directory_input || request.inputs.len() > 1) {
        return Err(Failure::usage("--output -: several inputs (or a directory) need a directory as --output"));
    }
    if output_is_directory && output.exists() && !output.is_dir() {
        return Err(Failure::files(format!(
            "{} is not a directory, but several inputs need one as --output",
            output.display()
        )));
    }
    if stdin_inputs > 0 && output_is_directory {
        return Err(Failure::usage(
            "--input -: stdin has no name to give a file in the output directory; name the output file",
        ));
    }

    let mut jobs = Vec::new();
    for input in request.inputs {
        if is_dash(input) {
            jobs.push(Job {
                source: Source::Stdin,
                target: if is_dash(output) { Target::Stdout } else { Target::File(output.to_owned()) },
            });
        } else if input.is_dir() {
            let mut files = Vec::new();
            walk(input, Path::new(""), output, &mut files)?;
            for relative in files {
                let target = output.join(with_suffix(&relative, request.suffix));
                jobs.push(Job { source: Source::File(input.join(&relative)), target: Target::File(target) });
            }
        } else if is_dash(output) {
            jobs.push(Job { source: Source::File(input.clone()), target: Target::Stdout });
        } else if output_is_directory {
            let name =
                input.file_name().ok_or_else(|| Failure::usage(format!("{} has no file name", input.display())))?;
            jobs.push(Job {
                source: Source::File(input.clone()),
                target: Target::File(output.join(with_suffix(Path::new(name), request.suffix))),
            });
        } else {
            jobs.push(Job { source: Source::File(input.clone()), target: Target::File(output.to_owned()) });
        }
    }
    check_targets(&jobs, request.overwrite)?;
    Ok(jobs)
}

/// Adds the regular files under `root/relative` (sorted, so runs are reproducible). Skips the
/// output directory when it lies inside the input, and symbolic links to directories (loops).
fn walk(root: &Path, relative: &Path, output: &Path, files: &mut Vec<PathBuf>) -> Result<(), Failure> {
    let directory = root.join(relative);
    let read = |error: std::io::Error| Failure::files(format!("cannot list {}: {error}", directory.display()));
    let mut entries: Vec<_> = std::fs::read_dir(&directory).map_err(read)?.collect::<Result<_, _>>().map_err(read)?;
    entries.sort_by_key(|entry| entry.file_name());
    for entry in entries {
        let path = entry.path();
        let child = relative.join(entry.file_name());
        let file_type = entry.file_type().map_err(read)?;
        if file_type.is_dir() {
            if same_path(&path, output) {
                continue;
            }
            walk(root, &child, output, files)?;
        } else if file_type.is_file() || (file_type.is_symlink() && path.is_file()) {
            files.push(child);
        } else {
            tracing::warn!("skipping {}: not a regular file", path.display());
        }
    }
    Ok(())
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name: OsString = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Whether two paths name one existing file or directory.
pub(super) fn same_path(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Refuses a target that is a source, two jobs writing one target, and existing targets without
/// `--overwrite`.
fn check_targets(jobs: &[Job], overwrite: bool) -> Result<(), Failure> {
    let sources: HashSet<FileId> = jobs
        .iter()
        .filter_map(|job| if let Source::File(path) = &job.source { FileId::of(path) } else { None })
        .collect();
    let mut seen = HashSet::new();
    for job in jobs {
        let Target::File(target) = &job.target else { continue };
        let normalized = normalize(target);
        if !seen.insert(normalized) {
            return Err(Failure::usage(format!("two inputs would both be written to {}", target.display())));
        }
        if let Some(id) = FileId::of(target) {
            if sources.contains(&id) {
                return Err(Failure::files(format!(
                    "{} is both an input and an output; choose another --output",
                    target.display()
                )));
            }
            if target.is_dir() {
                return Err(Failure::files(format!("{} is a directory, not a file to write", target.display())));
            }
            if !overwrite {
                return Err(Failure::files(format!(
                    "{} already exists; pass --overwrite to replace it",
                    target.display()
                )));
            }
        }
    }
    Ok(())
}

/// A path's absolute form without resolving a last component that may not exist yet.
fn normalize(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    match (absolute.parent(), absolute.file_name()) {
        (Some(parent), Some(name)) => parent.canonicalize().map(|parent| parent.join(name)).unwrap_or(absolute),
        _ => absolute,
    }
}

/// A file's identity (device and inode), so that hard links and `a/../a` spellings compare equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct FileId(u64, u64);

impl FileId {
    #[cfg(unix)]
    fn of(path: &Path) -> Option<FileId> {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(path).ok().map(|metadata| FileId(metadata.dev(), metadata.ino()))
    }

    #[cfg(not(unix))]
    fn of(path: &Path) -> Option<FileId> {
        use std::hash::{Hash, Hasher};
        let canonical = path.canonicalize().ok()?;
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        canonical.hash(&mut hasher);
        Some(FileId(0, hasher.finish()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit_code::Kind;

    fn request<'a>(inputs: &'a [PathBuf], output: &'a Path, recursive: bool) -> PlanRequest<'a> {
        PlanRequest { inputs, output, recursive, suffix: ".encrypted", overwrite: false }
    }

    fn scratch() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("envelope-plan-{}-{}", std::process::id(), rand_suffix()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn rand_suffix() -> u64 {
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(0);
        NEXT.fetch_add(1, Ordering::Relaxed)
    }

    #[test]
    fn file_to_file_directory_and_stdout() {
        let dir = scratch();
        let input = dir.join("a.txt");
        std::fs::write(&input, b"x").unwrap();
        let inputs = [input.clone()];
        let jobs = plan(&request(&inputs, &dir.join("out.bin"), false)).unwrap();
        assert_eq!(jobs, vec![Job { source: Source::File(input.clone()), target: Target::File(dir.join("out.bin")) }]);
        std::fs::create_dir(dir.join("out")).unwrap();
        let jobs = plan(&request(&inputs, &dir.join("out"), false)).unwrap();
        assert_eq!(jobs[0].target, Target::File(dir.join("out").join("a.txt.encrypted")));
        let jobs = plan(&request(&inputs, Path::new("-"), false)).unwrap();
        assert_eq!(jobs[0].target, Target::Stdout);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn directories_mirror_their_tree_and_skip_the_output_inside_them() {
        let dir = scratch();
        std::fs::create_dir_all(dir.join("in/sub/deeper")).unwrap();
        std::fs::write(dir.join("in/b"), b"").unwrap();
        std::fs::write(dir.join("in/sub/a"), b"1").unwrap();
        std::fs::write(dir.join("in/sub/deeper/c"), b"2").unwrap();
        std::fs::create_dir_all(dir.join("in/out")).unwrap();
        std::fs::write(dir.join("in/out/old.encrypted"), b"3").unwrap();
        let inputs = [dir.join("in")];
        let refused = plan(&request(&inputs, &dir.join("in/out"), false)).unwrap_err();
        assert_eq!(refused.kind, Kind::Usage);
        let jobs = plan(&request(&inputs, &dir.join("in/out"), true)).unwrap();
        let pairs: Vec<_> = jobs
            .iter()
            .map(|job| match (&job.source, &job.target) {
                (Source::File(s), Target::File(t)) => (
                    s.strip_prefix(dir.join("in")).unwrap().to_owned(),
                    t.strip_prefix(dir.join("in/out")).unwrap().to_owned(),
                ),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            pairs,
            vec![
                (PathBuf::from("b"), PathBuf::from("b.encrypted")),
                (PathBuf::from("sub/a"), PathBuf::from("sub/a.encrypted")),
                (PathBuf::from("sub/deeper/c"), PathBuf::from("sub/deeper/c.encrypted")),
            ]
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn refuses_same_file_existing_output_and_collisions() {
        let dir = scratch();
        let input = dir.join("a");
        std::fs::write(&input, b"x").unwrap();
        let inputs = [input.clone()];
        let same = plan(&request(&inputs, &dir.join("./a"), false)).unwrap_err();
        assert_eq!(same.kind, Kind::Files);
        assert!(same.to_string().contains("both an input and an output"), "{same}");
        let same_even_with_overwrite = plan(&PlanRequest {
            overwrite: true,
            ..request(&inputs, &dir.join("../").join(dir.file_name().unwrap()).join("a"), false)
        });
        assert!(same_even_with_overwrite.is_err());
        std::fs::write(dir.join("b"), b"old").unwrap();
        let exists = plan(&request(&inputs, &dir.join("b"), false)).unwrap_err();
        assert!(exists.to_string().contains("--overwrite"), "{exists}");
        assert!(plan(&PlanRequest { overwrite: true, ..request(&inputs, &dir.join("b"), false) }).is_ok());
        std::fs::create_dir_all(dir.join("x")).unwrap();
        std::fs::create_dir_all(dir.join("y")).unwrap();
        std::fs::write(dir.join("x/f"), b"1").unwrap();
        std::fs::write(dir.join("y/f"), b"2").unwrap();
        let two = [dir.join("x/f"), dir.join("y/f")];
        let collision = plan(&request(&two, &dir.join("out"), false)).unwrap_err();
        assert!(collision.to_string().contains("both be written"), "{collision}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn stdin_rules() {
        let dash = [PathBuf::from("-")];
        assert_eq!(
            plan(&request(&dash, Path::new("-"), false)).unwrap(),
            vec![Job { source: Source::Stdin, target: Target::Stdout }]
        );
        let dir = scratch();
        assert!(plan(&request(&dash, &dir, false)).is_err());
        let missing = [dir.join("missing")];
        assert_eq!(plan(&request(&missing, Path::new("-"), false)).unwrap_err().kind, Kind::Files);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
