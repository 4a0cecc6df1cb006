"""The team: an owner invites by email, the invited person joins as a member; members may not
manage the team or Stripe; the last owner stays; another tenant's people are out of reach."""

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update

from app.extensions import db
from app.merchant.models import MerchantInvite, MerchantRole, MerchantSession, MerchantUser
from app.portal.tokens import hash_token
from tests.merchant.conftest import (
    PASSWORD,
    log_in,
    post_page_form,
    signed_up_and_verified,
)
from tests.support.portal_client import csrf_from, text_part

INVITE_LINK_RE = re.compile(r"https?://[^/\s]+(/dashboard/join/[A-Za-z0-9_-]+)")
MEMBER = "bea@example.com"
MEMBER_PASSWORD = "harbour-lantern-thistle"


def _invite(client, email: str = MEMBER):
    return post_page_form(client, "/dashboard/team", {"email": email})


def _invite_link(smtp_sink, to: str = MEMBER) -> str:
    match = INVITE_LINK_RE.search(text_part(smtp_sink.wait_for(to)))
    assert match, "no invitation link in the email"
    return match.group(1)


def _join(client, path: str, name: str = "Bea Member", password: str = MEMBER_PASSWORD):
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    return client.post(
        path, data={"csrf_token": csrf_from(page.text), "name": name, "password": password}
    )


def _user(email: str) -> MerchantUser:
    db.session.expire_all()
    return db.session.scalars(select(MerchantUser).where(MerchantUser.email == email)).one()


def _team_with_member(platform, smtp_sink, client_for):
    """An owner (signed in on `platform`) and a member who joined and signed in on the other."""
    signed_up_and_verified(platform, smtp_sink)
    assert _invite(platform).status_code == 302
    member = client_for(None)
    assert _join(member, _invite_link(smtp_sink)).status_code == 302
    assert log_in(member, MEMBER, MEMBER_PASSWORD).status_code == 302
    return member


def _button(client, path: str, page: str = "/dashboard", **fields):
    csrf = csrf_from(client.get(page).text)
    return client.post(path, data={"csrf_token": csrf, **fields})


def test_an_invited_person_joins_as_a_member_of_the_owners_tenant(platform, smtp_sink, client_for):
    signed_up_and_verified(platform, smtp_sink)
    smtp_sink.clear()
    invited = _invite(platform, "  Bea@Example.com ")
    assert invited.status_code == 302
    message = smtp_sink.wait_for(MEMBER)
    assert message["Subject"] == "Join Acme Rockets on Billfold"
    assert "Ada Owner invited you" in text_part(message)
    path = _invite_link(smtp_sink)
    raw = path.rsplit("/", 1)[1]
    invitation = db.session.scalars(select(MerchantInvite)).one()
    assert invitation.email == MEMBER and invitation.token_hash == hash_token(raw)
    assert raw not in (invitation.token_hash or "")
    assert timedelta(days=6) < invitation.expires_at - datetime.now(UTC) <= timedelta(days=7)

    member = client_for(None)
    page = member.get(path)
    assert page.status_code == 200 and page.headers["Referrer-Policy"] == "same-origin"
    assert "Join Acme Rockets on Billfold" in page.text and MEMBER in page.text
    joined = _join(member, path)
    assert joined.status_code == 302 and joined.location.endswith("/dashboard/login")
    user = _user(MEMBER)
    owner = _user("owner@example.com")
    assert (user.role, user.tenant_id, user.name) == (MerchantRole.MEMBER, owner.tenant_id,
                                                      "Bea Member")  # fmt: skip
    assert user.email_verified

    assert log_in(member, MEMBER, MEMBER_PASSWORD).status_code == 302
    home = member.get("/dashboard")
    assert home.status_code == 200 and "Acme Rockets" in home.text
    assert 'href="/dashboard/team"' not in home.text
    assert 'href="/dashboard/connect"' not in home.text
    assert "An owner of this account connects Stripe." in home.text
    owner_home = platform.get("/dashboard")
    assert 'href="/dashboard/team"' in owner_home.text
    assert 'href="/dashboard/connect"' in owner_home.text


def test_an_invitation_works_once(platform, smtp_sink, client_for):
    member = _team_with_member(platform, smtp_sink, client_for)
    path = INVITE_LINK_RE.search(text_part(smtp_sink.wait_for(MEMBER))).group(1)
    stranger = client_for(None)
    assert stranger.get(path).status_code == 410
    csrf = csrf_from(stranger.get("/dashboard/login").text)
    again = stranger.post(path, data={"csrf_token": csrf, "name": "Eve", "password": PASSWORD})
    assert again.status_code == 410 and "already used" in again.text
    assert db.session.scalar(select(func.count()).select_from(MerchantUser)) == 2
    assert member.get("/dashboard").status_code == 200


def test_an_expired_invitation_is_refused(platform, smtp_sink, client_for):
    signed_up_and_verified(platform, smtp_sink)
    _invite(platform)
    path = _invite_link(smtp_sink)
    db.session.execute(
        update(MerchantInvite).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    )
    db.session.commit()
    member = client_for(None)
    assert member.get(path).status_code == 410
    csrf = csrf_from(member.get("/dashboard/login").text)
    posted = member.post(
        path, data={"csrf_token": csrf, "name": "Bea", "password": MEMBER_PASSWORD}
    )
    assert posted.status_code == 410
    assert db.session.scalar(select(func.count()).select_from(MerchantUser)) == 1
    assert "No invitations waiting" in platform.get("/dashboard/team").text


def test_sending_again_replaces_the_link_and_is_rate_limited(platform, smtp_sink, client_for):
    signed_up_and_verified(platform, smtp_sink)
    _invite(platform)
    first = _invite_link(smtp_sink)
    invitation = db.session.scalars(select(MerchantInvite)).one()
    resend = f"/dashboard/team/invites/{invitation.id}/resend"
    smtp_sink.clear()
    assert _button(platform, resend, "/dashboard/team").status_code == 302
    second = _invite_link(smtp_sink)
    assert second != first
    member = client_for(None)
    assert member.get(first).status_code == 410
    for _ in range(2):
        assert _button(platform, resend, "/dashboard/team").status_code == 302
    assert _button(platform, resend, "/dashboard/team").status_code == 429
    newest = INVITE_LINK_RE.search(text_part(smtp_sink.wait_for(MEMBER))).group(1)
    assert _join(member, newest).status_code == 302


def test_a_withdrawn_invitation_no_longer_works(platform, smtp_sink, client_for):
    signed_up_and_verified(platform, smtp_sink)
    _invite(platform)
    path = _invite_link(smtp_sink)
    invitation = db.session.scalars(select(MerchantInvite)).one()
    page = platform.get("/dashboard/team")
    assert MEMBER in page.text and "Expires" in page.text
    revoke = f"/dashboard/team/invites/{invitation.id}/revoke"
    revoked = _button(platform, revoke, "/dashboard/team")
    assert revoked.status_code == 302
    assert client_for(None).get(path).status_code == 410
    after = platform.get("/dashboard/team").text
    assert "is withdrawn" in after and "No invitations waiting" in after


def test_an_invitation_opened_while_signed_in_as_another_merchant_changes_nothing(
    platform, smtp_sink, client_for
):
    signed_up_and_verified(platform, smtp_sink)
    other = client_for(None)
    signed_up_and_verified(
        other, smtp_sink, email="bob@example.com", subdomain="bolts", business_name="Bolts"
    )
    _invite(platform, "bob2@example.com")
    path = _invite_link(smtp_sink, "bob2@example.com")
    page = other.get(path)
    assert page.status_code == 409 and "Sign out to accept this invitation" in page.text
    posted = other.post(
        path,
        data={"csrf_token": csrf_from(page.text), "name": "Bob", "password": MEMBER_PASSWORD},
    )
    assert posted.status_code == 409
    bob = _user("bob@example.com")
    assert bob.role == MerchantRole.OWNER and bob.tenant_id != _user("owner@example.com").tenant_id
    assert db.session.scalars(select(MerchantInvite)).one().accepted_at is None
    assert "Bolts" in other.get("/dashboard").text


def test_an_address_with_an_account_cannot_join_another_team(platform, smtp_sink, client_for):
    signed_up_and_verified(platform, smtp_sink)
    other = client_for(None)
    signed_up_and_verified(
        other, smtp_sink, email="bob@example.com", subdomain="bolts", business_name="Bolts"
    )
    assert _invite(platform, "bob@example.com").status_code == 302  # nothing said to the owner
    path = _invite_link(smtp_sink, "bob@example.com")
    stranger = client_for(None)
    page = stranger.get(path)
    assert page.status_code == 409
    assert "This address already has a Billfold account" in page.text
    assert _user("bob@example.com").tenant_id != _user("owner@example.com").tenant_id


def test_a_member_is_refused_every_owner_action(platform, smtp_sink, client_for):
    member = _team_with_member(platform, smtp_sink, client_for)
    owner = _user("owner@example.com")
    _invite(platform, "cy@example.com")
    invitation = db.session.scalars(
        select(MerchantInvite).where(MerchantInvite.email == "cy@example.com")
    ).one()
    refused_page = member.get("/dashboard/team")
    assert refused_page.status_code == 403
    # the way back is their own dashboard, not the platform's front page
    assert 'href="/dashboard">Back to your dashboard</a>' in refused_page.text
    assert member.get("/dashboard/connect").status_code == 403
    csrf = csrf_from(member.get("/dashboard").text)
    posts = {
        "/dashboard/team": {"email": "eve@example.com"},
        f"/dashboard/team/members/{owner.id}/role": {"role": "member"},
        f"/dashboard/team/members/{owner.id}/remove": {},
        f"/dashboard/team/invites/{invitation.id}/revoke": {},
        f"/dashboard/team/invites/{invitation.id}/resend": {},
        "/dashboard/connect/key": {"key": "rk_test_x"},
        "/dashboard/connect/disconnect": {},
        "/dashboard/connect/webhook": {"webhook_secret": "whsec_x"},
    }
    for path, fields in posts.items():
        refused = member.post(path, data={"csrf_token": csrf, **fields})
        assert refused.status_code == 403, path
        assert "Only an owner of this account can do this" in refused.text
    assert _user("owner@example.com").role == MerchantRole.OWNER
    assert db.session.get(MerchantInvite, invitation.id).revoked_at is None
    assert db.session.scalar(select(func.count()).select_from(MerchantInvite)) == 2
    # Everything else is theirs: branding, say.
    assert member.get("/dashboard/branding").status_code == 200


def test_another_tenants_people_are_not_found(platform, smtp_sink, client_for):
    signed_up_and_verified(platform, smtp_sink)
    other = client_for(None)
    signed_up_and_verified(
        other, smtp_sink, email="bob@example.com", subdomain="bolts", business_name="Bolts"
    )
    _invite(other, "bea@example.com")
    bob = _user("bob@example.com")
    theirs = db.session.scalars(select(MerchantInvite)).one()
    for path, fields in {
        f"/dashboard/team/members/{bob.id}/remove": {},
        f"/dashboard/team/members/{bob.id}/role": {"role": "member"},
        f"/dashboard/team/invites/{theirs.id}/revoke": {},
        f"/dashboard/team/invites/{theirs.id}/resend": {},
    }.items():
        assert _button(platform, path, "/dashboard/team", **fields).status_code == 404, path
    assert platform.get(f"/dashboard/team/members/{bob.id}/remove").status_code == 404
    assert _user("bob@example.com").role == MerchantRole.OWNER
    assert db.session.get(MerchantInvite, theirs.id).revoked_at is None


def test_forms_without_their_csrf_token_are_refused(platform, smtp_sink, client_for):
    signed_up_and_verified(platform, smtp_sink)
    smtp_sink.clear()
    assert platform.post("/dashboard/team", data={"email": MEMBER}).status_code == 400
    assert db.session.scalar(select(func.count()).select_from(MerchantInvite)) == 0
    _invite(platform)
    path = _invite_link(smtp_sink)
    member = client_for(None)
    member.get(path)
    forged = member.post(path, data={"name": "Bea", "password": MEMBER_PASSWORD})
    assert forged.status_code == 400 and "This form has expired" in forged.text
    assert db.session.scalars(select(MerchantInvite)).one().accepted_at is None
    owner = _user("owner@example.com")
    removal = platform.post(f"/dashboard/team/members/{owner.id}/role", data={"role": "member"})
    assert removal.status_code == 400
    assert _user("owner@example.com").role == MerchantRole.OWNER


def test_a_bad_address_or_a_teammate_is_not_invited(platform, smtp_sink):
    signed_up_and_verified(platform, smtp_sink)
    smtp_sink.clear()
    for address in ("bea@example.com\nBcc: eve@example.com", "not an address", ""):
        refused = _invite(platform, address)
        assert refused.status_code == 400, address
        assert 'aria-invalid="true"' in refused.text
    own = _invite(platform, "Owner@example.com")
    assert own.status_code == 400 and "owner@example.com is already on your team." in own.text
    assert db.session.scalar(select(func.count()).select_from(MerchantInvite)) == 0
    _invite(platform)
    twice = _invite(platform)
    assert twice.status_code == 400 and "already has an invitation waiting" in twice.text
    assert db.session.scalar(select(func.count()).select_from(MerchantInvite)) == 1


def test_inviting_someone_already_a_member_says_so(platform, smtp_sink, client_for):
    _team_with_member(platform, smtp_sink, client_for)
    again = _invite(platform, MEMBER)
    assert again.status_code == 400 and f"{MEMBER} is already on your team." in again.text


def test_joining_checks_the_password_rules_and_keeps_the_link(platform, smtp_sink, client_for):
    signed_up_and_verified(platform, smtp_sink)
    _invite(platform)
    path = _invite_link(smtp_sink)
    member = client_for(None)
    weak = _join(member, path, password="password123")
    assert weak.status_code == 400 and "most common passwords" in weak.text
    own = _join(member, path, password=MEMBER)
    assert own.status_code == 400 and "must not be your email address" in own.text
    nameless = _join(member, path, name="   ")
    assert nameless.status_code == 400 and "Enter your name." in nameless.text
    assert db.session.scalar(select(func.count()).select_from(MerchantUser)) == 1
    assert _join(member, path).status_code == 302


def test_the_team_page_lists_members_and_invitations(platform, smtp_sink, client_for):
    _team_with_member(platform, smtp_sink, client_for)
    _invite(platform, "cy@example.com")
    page = platform.get("/dashboard/team")
    assert page.status_code == 200
    for text in ("Ada Owner", "owner@example.com", "Bea Member", MEMBER, "Owner", "Member",
                 "cy@example.com", "Pending invitations", "UTC"):  # fmt: skip
        assert text in page.text, text
    assert "(you)" in page.text


def test_removing_a_member_ends_their_sessions_at_once(platform, smtp_sink, client_for):
    member = _team_with_member(platform, smtp_sink, client_for)
    bea = _user(MEMBER)
    assert db.session.scalar(
        select(func.count()).where(
            MerchantSession.user_id == bea.id, MerchantSession.ended_at.is_(None)
        )
    )
    confirm = platform.get(f"/dashboard/team/members/{bea.id}/remove")
    assert confirm.status_code == 200 and "signed out at once" in confirm.text
    assert db.session.get(MerchantUser, bea.id) is not None  # asking removes nothing
    removed = _button(platform, f"/dashboard/team/members/{bea.id}/remove", "/dashboard/team")
    assert removed.status_code == 302
    after = member.get("/dashboard")
    assert after.status_code == 302 and "/dashboard/login" in after.location
    assert db.session.scalar(
        select(func.count()).select_from(MerchantSession).where(MerchantSession.user_id == bea.id)
    ) == 0  # fmt: skip
    assert log_in(member, MEMBER, MEMBER_PASSWORD).status_code == 400
    assert MEMBER not in platform.get("/dashboard/team").text


def test_an_owner_makes_a_member_owner_and_back(platform, smtp_sink, client_for):
    member = _team_with_member(platform, smtp_sink, client_for)
    bea = _user(MEMBER)
    role_path = f"/dashboard/team/members/{bea.id}/role"
    assert _button(platform, role_path, "/dashboard/team", role="owner").status_code == 302
    assert _user(MEMBER).role == MerchantRole.OWNER
    assert member.get("/dashboard/team").status_code == 200  # at the next click, no new sign-in
    assert _button(platform, role_path, "/dashboard/team", role="member").status_code == 302
    assert member.get("/dashboard/team").status_code == 403
    bogus = _button(platform, role_path, "/dashboard/team", role="admin")
    assert bogus.status_code == 302 and _user(MEMBER).role == MerchantRole.MEMBER


def test_an_owner_who_makes_themselves_a_member_lands_on_the_dashboard(
    platform, smtp_sink, client_for
):
    member = _team_with_member(platform, smtp_sink, client_for)
    bea = _user(MEMBER)
    role = "/dashboard/team/members/{}/role"
    _button(platform, role.format(bea.id), "/dashboard/team", role="owner")
    owner = _user("owner@example.com")
    stepped_down = _button(member, role.format(owner.id), "/dashboard/team", role="member")
    assert stepped_down.status_code == 302 and stepped_down.location.endswith("/dashboard/team")
    assert _user("owner@example.com").role == MerchantRole.MEMBER
    mine = _button(member, role.format(bea.id), "/dashboard/team", role="member")
    assert mine.status_code == 302 and _user(MEMBER).role == MerchantRole.OWNER  # the last one
    _button(member, role.format(owner.id), "/dashboard/team", role="owner")
    own = _button(platform, role.format(owner.id), "/dashboard/team", role="member")
    assert own.status_code == 302 and own.location.endswith("/dashboard")
    assert platform.get("/dashboard/team").status_code == 403


def test_the_last_owner_stays(platform, smtp_sink, client_for):
    _team_with_member(platform, smtp_sink, client_for)
    owner = _user("owner@example.com")
    demoted = _button(
        platform, f"/dashboard/team/members/{owner.id}/role", "/dashboard/team", role="member"
    )
    assert demoted.status_code == 302
    page = platform.get("/dashboard/team")
    assert "Ada Owner is the only owner, so you cannot make them a member." in page.text
    assert _user("owner@example.com").role == MerchantRole.OWNER
    own = _button(platform, f"/dashboard/team/members/{owner.id}/remove", "/dashboard/team")
    assert own.status_code == 302
    assert "You cannot remove yourself." in platform.get("/dashboard/team").text
    assert _user("owner@example.com").role == MerchantRole.OWNER


def test_a_members_verified_address_does_not_open_the_portal(platform, smtp_sink, client_for):
    from app.clock import utcnow
    from app.merchant.passwords import hash_password
    from tests.merchant.conftest import sign_up

    assert sign_up(platform).status_code == 302  # the owner never verifies
    owner = _user("owner@example.com")
    db.session.add(
        MerchantUser(tenant_id=owner.tenant_id, name="Bea Member", email=MEMBER,
                     password_hash=hash_password(MEMBER_PASSWORD), role=MerchantRole.MEMBER,
                     email_verified_at=utcnow())
    )  # fmt: skip
    db.session.commit()
    member = client_for(None)
    assert log_in(member, MEMBER, MEMBER_PASSWORD).status_code == 302
    home = member.get("/dashboard").text
    assert "An owner of this account verifies their address." in home
    assert "Send the link again" not in home


def test_a_member_retrying_the_copy_is_sent_back_to_the_dashboard_not_the_stripe_page(
    platform, smtp_sink, client_for
):
    member = _team_with_member(platform, smtp_sink, client_for)
    retried = _button(member, "/dashboard/sync/retry", next="connect")
    assert retried.status_code == 302 and retried.location.endswith("/dashboard")
    assert "Connect your Stripe account first." in member.get("/dashboard").text


def test_invitations_and_join_attempts_are_rate_limited(platform, smtp_sink, client_for):
    signed_up_and_verified(platform, smtp_sink)
    csrf = csrf_from(platform.get("/dashboard/team").text)
    answers = [
        platform.post("/dashboard/team", data={"csrf_token": csrf, "email": f"p{n}@example.com"})
        for n in range(11)
    ]
    assert [a.status_code for a in answers] == [302] * 10 + [429]
    assert db.session.scalar(select(func.count()).select_from(MerchantInvite)) == 10
    path = _invite_link(smtp_sink, "p0@example.com")
    stranger = client_for(None)
    token = csrf_from(stranger.get(path).text)
    weak = {"csrf_token": token, "name": "P", "password": "short"}
    tries = [stranger.post(path, data=weak).status_code for _ in range(21)]
    assert tries == [400] * 20 + [429]
