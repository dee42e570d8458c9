//! `users create` whose answer is lost: settled by looking its login up,
//! as the import does; "outcome unknown" (exit 7), with how to check, only
//! when that look-up gets no answer either.

use identity_emulator::{Fault, FaultRule, FaultWhen};

use crate::support::TestEmulator;

const CREATE_ANN: [&str; 8] = [
    "users",
    "create",
    "--first-name",
    "Ann",
    "--last-name",
    "Lee",
    "--email",
    "ann@example.com",
];

#[test]
fn a_create_whose_answer_a_gateway_lost_is_settled_by_its_login() {
    let emulator = TestEmulator::start();
    emulator.set_faults(vec![
        FaultRule::new(
            Some("CreateUser"),
            Fault::StatusAfterProcessing { status: 502 },
        )
        .when(FaultWhen::Next { n: 1 }),
    ]);
    let mut args = CREATE_ANN.to_vec();
    args.push("--json");
    let run = emulator.run(&args);
    let user = run.ok().json();
    assert_eq!(user["login"], "ann@example.com");
    assert!(
        run.stderr
            .contains("its answer was lost, and its login shows it was made"),
        "{run:#?}"
    );
    assert_eq!(emulator.users().len(), 1);
    assert_eq!(user["id"], emulator.users()[0].id.as_str());
}

#[test]
fn a_create_that_was_never_made_is_sent_again() {
    let emulator = TestEmulator::start();
    emulator.set_faults(vec![
        FaultRule::new(Some("CreateUser"), Fault::CloseBeforeProcessing)
            .when(FaultWhen::Next { n: 1 }),
    ]);
    let run = emulator.run(&CREATE_ANN);
    run.ok();
    let creates = emulator
        .operations()
        .iter()
        .filter(|operation| *operation == "CreateUser")
        .count();
    assert_eq!(creates, 2, "settled as not made, then sent again");
    assert_eq!(emulator.users().len(), 1);
}

#[test]
fn a_create_whose_outcome_cannot_be_settled_exits_7_saying_how_to_check() {
    let emulator = TestEmulator::start();
    emulator.set_faults(vec![
        FaultRule::new(Some("CreateUser"), Fault::CloseAfterProcessing),
        FaultRule::new(Some("GetUserFromLogin"), Fault::CloseBeforeProcessing),
    ]);
    let run = emulator.run(&CREATE_ANN);
    run.expect_code(7);
    for part in [
        "error: ",
        "the user may have been created: the answer was lost, and looking its login up failed too",
        "check with: fbn-identity users get-by-login ann@example.com",
    ] {
        assert!(run.stderr.contains(part), "{part} missing: {run:#?}");
    }
    assert_eq!(emulator.users().len(), 1, "it was made");
}
