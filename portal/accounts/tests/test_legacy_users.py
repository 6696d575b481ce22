"""Users imported from the original system: bcrypt hashes, re-hashed on first sign-in."""

import bcrypt
import pytest
from django.contrib.auth.hashers import get_hasher
from django.core.management import CommandError, call_command

from portal.accounts.models import User
from portal.api.tokens import live_tokens, token_create

pytestmark = pytest.mark.django_db


def seed_hash(password: str, prefix: str = "$2a$") -> str:
    """A hash like the original system's bcryptjs made (10 rounds, `$2a$`)."""
    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=10)).decode()
    return prefix + hashed[4:]


def write_csv(tmp_path, rows: str):
    path = tmp_path / "users.csv"
    path.write_text("email,full name,password hash,active\n" + rows, encoding="utf-8")
    return path


@pytest.mark.parametrize("prefix", ["$2a$", "$2b$"])
def test_imported_bcrypt_user_signs_in_and_is_rehashed(client, tmp_path, prefix):
    path = write_csv(
        tmp_path, f"Old.User@Example.com,Old User,{seed_hash('legacy pass 1', prefix)},yes\n"
    )
    call_command("import_users", str(path))
    user = User.objects.get(email="old.user@example.com")
    assert user.password.startswith("bcrypt$" + prefix)

    response = client.post("/login", {"email": "old.user@example.com", "password": "legacy pass 1"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.password.startswith(get_hasher().algorithm + "$")
    assert user.check_password("legacy pass 1")


def test_wrong_password_for_a_legacy_hash_fails_and_keeps_the_hash(client, tmp_path):
    original = seed_hash("legacy pass 1")
    call_command("import_users", str(write_csv(tmp_path, f"a@example.com,A,{original},yes\n")))
    response = client.post("/login", {"email": "a@example.com", "password": "legacy pass 2"})
    assert response.status_code == 400
    assert User.objects.get(email="a@example.com").password == "bcrypt$" + original


def test_legacy_passwords_longer_than_72_bytes_match_like_the_original_system(client, tmp_path):
    long_password = "x" * 80
    # bcryptjs hashed only the first 72 bytes.
    original = seed_hash("x" * 72)
    call_command("import_users", str(write_csv(tmp_path, f"l@example.com,L,{original},yes\n")))
    response = client.post("/login", {"email": "l@example.com", "password": long_password})
    assert response.status_code == 302


def test_blank_hash_imports_a_user_without_a_usable_password(tmp_path):
    call_command("import_users", str(write_csv(tmp_path, "b@example.com,B,,no\n")))
    user = User.objects.get(email="b@example.com")
    assert not user.has_usable_password()
    assert user.is_active is False


def test_import_updates_existing_users_by_email(tmp_path, personas):
    call_command("import_users", str(write_csv(tmp_path, "REQUESTER@example.com,Renamed,,yes\n")))
    personas.requester.refresh_from_db()
    assert personas.requester.full_name == "Renamed"
    assert personas.requester.has_usable_password()  # blank hash keeps the current password


def test_any_bad_row_means_nothing_is_imported_and_each_error_names_its_line(tmp_path, capsys):
    rows = (
        "good@example.com,Good,,yes\n"
        "not-an-email,Bad,,yes\n"
        "c@example.com,,,yes\n"
        "d@example.com,D,$2a$10$short,yes\n"
        "e@example.com,E,,maybe\n"
        "good@example.com,Twice,,yes\n" + "x" * 65 + "@example.com,Long local part,,yes\n"
    )
    with pytest.raises(CommandError, match="no users were imported"):
        call_command("import_users", str(write_csv(tmp_path, rows)))
    errors = capsys.readouterr().err
    for line in ["Line 3:", "Line 4:", "Line 5:", "Line 6:", "Line 7:", "Line 8:"]:
        assert line in errors
    assert "Line 2:" not in errors
    assert not User.objects.filter(email="good@example.com").exists()


def test_missing_columns_are_reported(tmp_path):
    path = tmp_path / "users.csv"
    path.write_text("mail,name\nx@example.com,X\n")
    with pytest.raises(CommandError):
        call_command("import_users", str(path))
    assert User.objects.count() == 0


def test_a_deactivation_by_import_is_logged_and_ends_the_users_sessions(
    tmp_path, personas, client_for, caplog
):
    signed_in = client_for(personas.requester)
    assert signed_in.get("/dashboard").status_code == 200
    caplog.set_level("INFO", logger="portal.security")
    caplog.clear()  # signing in above is an event of its own
    path = write_csv(tmp_path, "requester@example.com,Requester Persona,,no\n")
    call_command("import_users", str(path))

    records = [r for r in caplog.records if r.name == "portal.security"]
    assert [(r.getMessage(), r.user_id, r.changed) for r in records] == [
        ("user access changed", personas.requester.pk, ["is_active"])
    ]
    response = signed_in.get("/dashboard")
    assert response.status_code == 302 and response["Location"].startswith("/login")


def test_a_new_hash_for_an_existing_user_ends_their_sessions_and_is_logged(
    tmp_path, personas, client_for, caplog
):
    signed_in = client_for(personas.requester)
    assert signed_in.get("/dashboard").status_code == 200
    token_create(user=personas.requester, name="script")
    caplog.set_level("INFO", logger="portal.security")
    caplog.clear()  # signing in above is an event of its own
    hashed = seed_hash("legacy pass 1")
    path = write_csv(tmp_path, f"requester@example.com,Requester Persona,{hashed},yes\n")
    call_command("import_users", str(path))

    records = [r for r in caplog.records if r.name == "portal.security"]
    assert [(r.getMessage(), r.user_id) for r in records] == [
        ("api tokens revoked by a password change", personas.requester.pk),
        ("password changed", personas.requester.pk),
    ]
    assert records[-1].credentials_revoked == 1
    assert signed_in.get("/dashboard").status_code == 302
    assert list(live_tokens(personas.requester)) == []  # a token minted before is revoked
    personas.requester.refresh_from_db()
    assert personas.requester.password == "bcrypt$" + hashed

    caplog.clear()
    call_command("import_users", str(path))  # the same file again: nothing changes
    assert [r for r in caplog.records if r.name == "portal.security"] == []


def test_an_import_that_would_deactivate_the_last_admin_on_triage_duty_writes_nothing(
    tmp_path, personas, org, capsys
):
    # Group Y has no SPOC: its tickets can reach only the admins on triage duty.
    personas.admin.on_triage_duty = True
    personas.admin.save(update_fields=["on_triage_duty"])
    rows = "new@example.com,New Person,,yes\nadmin@example.com,Admin Persona,,no\n"
    with pytest.raises(CommandError, match="no users were imported"):
        call_command("import_users", str(write_csv(tmp_path, rows)))
    assert "Line 3: Admin Persona is the only admin on triage duty" in capsys.readouterr().err
    personas.admin.refresh_from_db()
    assert personas.admin.is_active and personas.admin.on_triage_duty
    assert not User.objects.filter(email="new@example.com").exists()  # line 2 undone too
