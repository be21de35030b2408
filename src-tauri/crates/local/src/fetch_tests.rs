use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;

use super::*;
use llmaas_gguf::build::{tiny_llama, tiny_llama_typed};

/// A model with no slow tensors: downloaded and imported as it is.
fn q8_model() -> Vec<u8> {
    tiny_llama_typed(8, 7)
}

/// A file server on loopback that honours `Range: bytes=N-`, and cuts the
/// connection midway through its first `cut_first` answers.
#[derive(Clone)]
struct Server {
    file: Arc<Vec<u8>>,
    cut_first: Arc<AtomicUsize>,
    ranges: Arc<Mutex<Vec<Option<String>>>>,
    honour_range: bool,
    /// Answers a range request from byte 0, saying so in `Content-Range`.
    resume_from_zero: bool,
    /// Sends half the file, then nothing, never ending.
    stall: bool,
}

async fn serve_file(State(s): State<Server>, headers: HeaderMap) -> Response {
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    s.ranges.lock().unwrap().push(range.clone());
    let start = range
        .as_deref()
        .filter(|_| s.honour_range)
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.strip_suffix('-'))
        .and_then(|n| n.parse::<usize>().ok());
    let len = s.file.len();
    if start.is_some_and(|n| n >= len) {
        return Response::builder()
            .status(StatusCode::RANGE_NOT_SATISFIABLE)
            .body(Body::empty())
            .unwrap();
    }
    let from = if s.resume_from_zero {
        0
    } else {
        start.unwrap_or(0)
    };
    let body = s.file[from..].to_vec();
    if s.stall {
        let half = body[..body.len() / 2].to_vec();
        let chunks = futures_util::StreamExt::chain(
            futures_util::stream::iter([Ok::<_, std::io::Error>(half)]),
            futures_util::stream::pending(),
        );
        return Response::builder()
            .header(header::CONTENT_LENGTH, body.len())
            .body(Body::from_stream(chunks))
            .unwrap();
    }
    let cut = s
        .cut_first
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    let content_length = body.len();
    let body = if cut {
        // Half the bytes, then the connection breaks.
        let half = body[..body.len() / 2].to_vec();
        let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
            vec![Ok(half), Err(std::io::Error::other("cut"))];
        // A pause before the break, so the first half goes out on the wire
        // (hyper would otherwise drop it with the connection).
        Body::from_stream(futures_util::StreamExt::then(
            futures_util::stream::iter(chunks),
            |c| async move {
                if c.is_err() {
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                c
            },
        ))
    } else {
        Body::from(body)
    };
    let mut r = Response::builder().header(header::CONTENT_LENGTH, content_length);
    if start.is_some() {
        r = r.status(StatusCode::PARTIAL_CONTENT).header(
            header::CONTENT_RANGE,
            format!("bytes {from}-{}/{len}", len - 1),
        );
    }
    r.body(body).unwrap()
}

async fn start(server: Server) -> String {
    let app = axum::Router::new()
        .route("/files/{name}", axum::routing::get(serve_file))
        .with_state(server);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/files")
}

fn server(file: Vec<u8>, cut_first: usize, honour_range: bool) -> Server {
    Server {
        file: Arc::new(file),
        cut_first: Arc::new(AtomicUsize::new(cut_first)),
        ranges: Arc::default(),
        honour_range,
        resume_from_zero: false,
        stall: false,
    }
}

#[tokio::test]
async fn a_resume_at_the_wrong_place_is_not_spliced_in() {
    let file = q8_model();
    let mut srv = server(file.clone(), 1, true);
    srv.resume_from_zero = true;
    let base = start(srv).await;
    let dir = tempfile::tempdir().unwrap();
    let pull = Pull {
        url: format!("{base}/m.gguf"),
        sha256: Some(sha(&file)),
        ..Pull::default()
    };
    let client = reqwest::Client::new();
    download(&client, &pull, dir.path(), &|_| {})
        .await
        .unwrap_err();
    let part = dir.path().join(".m.gguf.part");
    assert!(part.exists());
    let e = download(&client, &pull, dir.path(), &|_| {})
        .await
        .unwrap_err();
    assert!(e.to_string().contains("another place"), "{e}");
    assert!(!part.exists(), "the mismatched partial file is removed");
    // The next try starts from zero and is whole.
    let path = download(&client, &pull, dir.path(), &|_| {}).await.unwrap();
    assert_eq!(std::fs::read(path).unwrap(), file);
}

#[tokio::test]
async fn a_stalled_download_times_out_and_keeps_what_it_has() {
    let file = q8_model();
    let mut srv = server(file.clone(), 0, true);
    srv.stall = true;
    let base = start(srv).await;
    let dir = tempfile::tempdir().unwrap();
    let pull = Pull {
        url: format!("{base}/m.gguf"),
        sha256: Some(sha(&file)),
        stall_timeout: Some(std::time::Duration::from_millis(300)),
        ..Pull::default()
    };
    let e = download(&reqwest::Client::new(), &pull, dir.path(), &|_| {})
        .await
        .unwrap_err();
    assert!(e.to_string().contains("nothing arrived"), "{e}");
    let kept = std::fs::metadata(dir.path().join(".m.gguf.part"))
        .unwrap()
        .len();
    assert_eq!(kept, file.len() as u64 / 2);
}

#[tokio::test]
async fn one_download_of_a_name_at_a_time_and_a_dead_one_frees_it() {
    let file = q8_model();
    let mut srv = server(file.clone(), 0, true);
    srv.stall = true;
    let base = start(srv).await;
    let dir = tempfile::tempdir().unwrap();
    let pull = Pull {
        url: format!("{base}/m.gguf"),
        sha256: Some(sha(&file)),
        stall_timeout: Some(std::time::Duration::from_millis(300)),
        ..Pull::default()
    };
    let first = {
        let (pull, folder) = (pull.clone(), dir.path().to_path_buf());
        tokio::spawn(async move {
            let long = Pull {
                stall_timeout: Some(std::time::Duration::from_mins(1)),
                ..pull
            };
            download(&reqwest::Client::new(), &long, &folder, &|_| {}).await
        })
    };
    let part = dir.path().join(".m.gguf.part");
    while std::fs::metadata(&part).map_or(0, |m| m.len()) == 0 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let e = download(&reqwest::Client::new(), &pull, dir.path(), &|_| {})
        .await
        .unwrap_err();
    assert!(e.to_string().contains("already being downloaded"), "{e}");
    assert_eq!(
        std::fs::metadata(&part).unwrap().len(),
        file.len() as u64 / 2
    );
    // The first one ends (as a killed process would): the name is free again,
    // and the next try resumes what the first one kept.
    first.abort();
    assert!(first.await.unwrap_err().is_cancelled());
    assert!(
        !dir.path().join(".m.gguf.lock").exists(),
        "the lock file is left"
    );
    let e = download(&reqwest::Client::new(), &pull, dir.path(), &|_| {})
        .await
        .unwrap_err();
    assert!(e.to_string().contains("nothing arrived"), "{e}");
}

#[tokio::test]
async fn plain_http_from_another_machine_needs_a_checksum() {
    let dir = tempfile::tempdir().unwrap();
    let pull = Pull {
        url: "http://models.example.invalid/m.gguf".into(),
        ..Pull::default()
    };
    let e = download(&reqwest::Client::new(), &pull, dir.path(), &|_| {})
        .await
        .unwrap_err();
    assert!(e.to_string().contains("sha256"), "{e}");
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());
}

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[tokio::test]
async fn downloads_with_progress_and_checksum() {
    let file = q8_model();
    let base = start(server(file.clone(), 0, true)).await;
    let dir = tempfile::tempdir().unwrap();
    let seen = Mutex::new(Vec::new());
    let pull = Pull {
        url: format!("{base}/Tiny%20Model.gguf?download=1"),
        file_name: None,
        sha256: Some(sha(&file).to_uppercase()),
        ..Pull::default()
    };
    let path = download(&reqwest::Client::new(), &pull, dir.path(), &|p| {
        seen.lock().unwrap().push(p);
    })
    .await
    .unwrap();
    assert_eq!(path, dir.path().join("Tiny Model.gguf"));
    assert_eq!(std::fs::read(&path).unwrap(), file);
    let seen = seen.into_inner().unwrap();
    let last = seen.last().unwrap();
    assert_eq!(last.done, file.len() as u64);
    assert_eq!(last.total, Some(file.len() as u64));
    // A second pull of the same name is refused, not overwritten.
    let again = download(&reqwest::Client::new(), &pull, dir.path(), &|_| {}).await;
    assert!(
        matches!(again, Err(LocalError::AlreadyExists(_))),
        "{again:?}"
    );
}

#[tokio::test]
async fn a_cut_download_resumes_where_it_stopped() {
    let file = q8_model();
    let srv = server(file.clone(), 1, true);
    let ranges = Arc::clone(&srv.ranges);
    let base = start(srv).await;
    let dir = tempfile::tempdir().unwrap();
    let pull = Pull {
        url: format!("{base}/m.gguf"),
        file_name: None,
        sha256: Some(sha(&file)),
        ..Pull::default()
    };
    let client = reqwest::Client::new();
    let first = download(&client, &pull, dir.path(), &|_| {})
        .await
        .unwrap_err();
    assert!(first.to_string().contains("resume"), "{first}");
    assert!(
        !dir.path().join("m.gguf").exists(),
        "no half file under the real name"
    );
    let part = dir.path().join(".m.gguf.part");
    let kept = std::fs::metadata(&part).unwrap().len();
    assert!(kept > 0 && kept < file.len() as u64, "{kept}");

    let path = download(&client, &pull, dir.path(), &|_| {}).await.unwrap();
    assert_eq!(
        std::fs::read(path).unwrap(),
        file,
        "checksum covers both parts"
    );
    assert!(!part.exists());
    let ranges = ranges.lock().unwrap().clone();
    assert_eq!(ranges, [None, Some(format!("bytes={kept}-"))]);
}

#[tokio::test]
async fn a_server_without_ranges_restarts_from_zero() {
    let file = q8_model();
    let base = start(server(file.clone(), 1, false)).await;
    let dir = tempfile::tempdir().unwrap();
    let pull = Pull {
        url: format!("{base}/m.gguf"),
        file_name: None,
        sha256: Some(sha(&file)),
        ..Pull::default()
    };
    let client = reqwest::Client::new();
    download(&client, &pull, dir.path(), &|_| {})
        .await
        .unwrap_err();
    let path = download(&client, &pull, dir.path(), &|_| {}).await.unwrap();
    assert_eq!(std::fs::read(path).unwrap(), file);
}

#[tokio::test]
async fn a_wrong_checksum_or_a_non_model_leaves_nothing() {
    let file = q8_model();
    let base = start(server(file.clone(), 0, true)).await;
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let bad = Pull {
        url: format!("{base}/m.gguf"),
        file_name: None,
        sha256: Some("00".repeat(32)),
        ..Pull::default()
    };
    let err = download(&client, &bad, dir.path(), &|_| {})
        .await
        .unwrap_err();
    assert!(matches!(err, LocalError::ChecksumMismatch { .. }), "{err}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

    let html = start(server(b"<html>login page</html>".to_vec(), 0, true)).await;
    let err = download(
        &client,
        &Pull {
            url: format!("{html}/x.gguf"),
            file_name: None,
            sha256: None,
            ..Pull::default()
        },
        dir.path(),
        &|_| {},
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("not a GGUF"), "{err}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

    let unreachable = Pull {
        url: "http://127.0.0.1:9/m.gguf".into(),
        file_name: None,
        sha256: None,
        ..Pull::default()
    };
    let err = download(&client, &unreachable, dir.path(), &|_| {})
        .await
        .unwrap_err();
    assert!(matches!(err, LocalError::Download(_)), "{err}");
}

#[test]
fn imports_by_copy_or_link_and_refuses_non_models() {
    let src = tempfile::tempdir().unwrap();
    let folder = tempfile::tempdir().unwrap();
    let model = src.path().join("Chat.gguf");
    std::fs::write(&model, q8_model()).unwrap();
    let last = Mutex::new(None);
    let copied = import(
        &model,
        folder.path(),
        ImportMode::Copy,
        requant::Target::Q8_0,
        &|p| {
            *last.lock().unwrap() = Some(p);
        },
    )
    .unwrap();
    assert_eq!(std::fs::read(&copied).unwrap(), q8_model());
    assert_eq!(
        last.into_inner().unwrap().unwrap().done,
        q8_model().len() as u64
    );
    assert!(matches!(
        import(
            &model,
            folder.path(),
            ImportMode::Copy,
            requant::Target::Q8_0,
            &|_| {}
        ),
        Err(LocalError::AlreadyExists(_))
    ));

    let other = tempfile::tempdir().unwrap();
    let linked = import(
        &model,
        other.path(),
        ImportMode::Link,
        requant::Target::Q8_0,
        &|_| {},
    )
    .unwrap();
    assert!(
        std::fs::symlink_metadata(&linked)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(std::fs::read(&linked).unwrap(), q8_model());

    let junk = src.path().join("junk.gguf");
    std::fs::write(&junk, b"random bytes, not a model").unwrap();
    let err = import(
        &junk,
        folder.path(),
        ImportMode::Copy,
        requant::Target::Q8_0,
        &|_| {},
    )
    .unwrap_err();
    assert!(err.to_string().contains("not a GGUF"), "{err}");
    assert!(!folder.path().join("junk.gguf").exists());
}

#[test]
fn file_names_come_from_urls() {
    assert_eq!(
        file_name_of("https://h/x/y/SmolLM2%20Q4.gguf?raw=true").unwrap(),
        "SmolLM2 Q4.gguf"
    );
    assert!(file_name_of("https://h/").is_err());
    assert!(file_name_of("not a url").is_err());
    assert_eq!(percent_decode("a%2"), "a%2");
    assert_eq!(percent_decode("é%41"), "éA");
}

#[tokio::test]
async fn speech_models_are_checked_for_the_ggml_magic() {
    let mut ggml = b"lmgg".to_vec();
    ggml.extend_from_slice(&[0_u8; 4096]);
    let base = start(server(ggml.clone(), 0, true)).await;
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let pull = Pull {
        url: format!("{base}/ggml-base.bin"),
        sha256: Some(sha(&ggml)),
        kind: PullKind::Speech,
        ..Pull::default()
    };
    let path = download(&client, &pull, dir.path(), &|_| {}).await.unwrap();
    assert_eq!(std::fs::read(path).unwrap(), ggml);

    // A GGUF (chat) file is not a speech model, and a speech model is named .bin.
    let gguf = start(server(q8_model(), 0, true)).await;
    let wrong = Pull {
        url: format!("{gguf}/ggml-small.bin"),
        kind: PullKind::Speech,
        ..Pull::default()
    };
    let err = download(&client, &wrong, dir.path(), &|_| {})
        .await
        .unwrap_err();
    assert!(err.to_string().contains("GGUF"), "{err}");
    assert!(!dir.path().join("ggml-small.bin").exists());
    let misnamed = Pull {
        url: format!("{base}/model.gguf"),
        kind: PullKind::Speech,
        ..Pull::default()
    };
    let err = download(&client, &misnamed, dir.path(), &|_| {})
        .await
        .unwrap_err();
    assert!(err.to_string().contains("NAME.bin"), "{err}");
}

#[test]
fn a_copy_of_a_slow_model_is_the_converted_file() {
    let src = tempfile::tempdir().unwrap();
    let folder = tempfile::tempdir().unwrap();
    let model = src.path().join("Chat.Q4_1.gguf");
    std::fs::write(&model, tiny_llama()).unwrap();
    let seen = Mutex::new(Vec::new());
    let copied = import(
        &model,
        folder.path(),
        ImportMode::Copy,
        requant::Target::Q8_0,
        &|p| {
            seen.lock().unwrap().push(p);
        },
    )
    .unwrap();
    assert_eq!(copied, folder.path().join("Chat.Q8_0.gguf"));
    let info = gguf::read(&copied).unwrap();
    assert_eq!(info.quantisation, "Q8_0");
    assert!(info.has_chat_template);
    let seen = seen.into_inner().unwrap();
    assert!(seen.iter().all(|p| p.converting) && !seen.is_empty());
    // Nothing else is left in the folder (no temporary file).
    assert_eq!(std::fs::read_dir(folder.path()).unwrap().count(), 1);
    // A link stays the file it links to: the engine converts at load.
    let other = tempfile::tempdir().unwrap();
    let linked = import(
        &model,
        other.path(),
        ImportMode::Link,
        requant::Target::Q8_0,
        &|_| {},
    )
    .unwrap();
    assert_eq!(linked, other.path().join("Chat.Q4_1.gguf"));
}

#[tokio::test]
async fn a_slow_download_is_kept_converted_and_the_download_removed() {
    let file = tiny_llama();
    let base = start(server(file.clone(), 0, true)).await;
    let dir = tempfile::tempdir().unwrap();
    let pull = Pull {
        url: format!("{base}/small.Q4_1.gguf"),
        sha256: Some(sha(&file)),
        convert_to: requant::Target::Q4_0,
        ..Pull::default()
    };
    let converting = AtomicUsize::new(0);
    let path = download(&reqwest::Client::new(), &pull, dir.path(), &|p| {
        if p.converting {
            converting.fetch_add(1, Ordering::SeqCst);
        }
    })
    .await
    .unwrap();
    assert_eq!(path, dir.path().join("small.Q4_0.gguf"));
    assert_eq!(gguf::read(&path).unwrap().quantisation, "Q4_0");
    assert!(converting.load(Ordering::SeqCst) > 0);
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("small.Q4_0.gguf")]);
}

/// A listed model (see [`crate::downloads`]) downloads with its checksum and
/// size; a size the disk cannot take is refused before anything is asked,
/// and a server announcing another size is not read from.
#[tokio::test]
async fn a_listed_size_is_checked_against_the_disk_and_the_server() {
    let file = q8_model();
    let srv = server(file.clone(), 1, true);
    let ranges = Arc::clone(&srv.ranges);
    let base = start(srv).await;
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let listed = Pull {
        url: format!("{base}/m.gguf"),
        sha256: Some(sha(&file)),
        size: Some(file.len() as u64),
        ..Pull::default()
    };

    // Bigger than this disk's free space: said first, nothing fetched.
    let free = fs2::available_space(dir.path()).unwrap();
    let too_big = Pull {
        size: Some(free + 1),
        ..listed.clone()
    };
    let e = download(&client, &too_big, dir.path(), &|_| {})
        .await
        .unwrap_err();
    assert!(
        matches!(e, LocalError::NoSpace { free: f, .. } if f > 0),
        "{e:?}"
    );
    assert!(e.to_string().contains("free some space"), "{e}");
    assert!(ranges.lock().unwrap().is_empty(), "no request was made");

    // The server's file is not the listed one.
    let other = Pull {
        size: Some(file.len() as u64 + 1),
        ..listed.clone()
    };
    let e = download(&client, &other, dir.path(), &|_| {})
        .await
        .unwrap_err();
    assert!(e.to_string().contains("not the listed file"), "{e}");
    assert!(!dir.path().join(".m.gguf.part").exists());

    // The listed one: cut once (the server's first answer), resumed, whole.
    let first = download(&client, &listed, dir.path(), &|_| {}).await;
    let path = match first {
        Ok(path) => path,
        Err(_) => download(&client, &listed, dir.path(), &|_| {})
            .await
            .unwrap(),
    };
    assert_eq!(std::fs::read(path).unwrap(), file);
}
