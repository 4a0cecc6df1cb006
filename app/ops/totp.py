"""The operator's second factor: a TOTP authenticator (RFC 6238, 30-second steps, 6 digits), each
code good once, and recovery codes for a lost authenticator.

A code is accepted for the current step or the one either side (clocks drift); accepting it
records its step, and a code of that step or an earlier one is refused from then on, so a code
read over a shoulder or from a proxy's log cannot be typed again. The record is a conditional
UPDATE, so two requests racing with one code cannot both win.
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime

import pyotp
from sqlalchemy import or_, update

from app.extensions import db
from app.ops.models import Operator, RecoveryCode
from app.portal.tokens import hash_token

ISSUER = "Billfold operators"
STEP_SECONDS = 30
DRIFT_STEPS = 1
RECOVERY_CODE_COUNT = 10


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def _matching_step(secret: str, code: str, now: float) -> int | None:
    code = "".join(code.split())
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = int(now // STEP_SECONDS)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if secrets.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def accept_code(operator: Operator, code: str, now: float | None = None) -> bool:
    """True, once, for a right code of a step newer than the last one accepted."""
    if not operator.totp_secret:
        return False
    step = _matching_step(operator.totp_secret, code or "", time.time() if now is None else now)
    if step is None:
        return False
    claimed = db.session.execute(
        update(Operator)
        .where(
            Operator.id == operator.id,
            or_(Operator.totp_last_step.is_(None), Operator.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed:
        operator.totp_last_step = step
    return bool(claimed)


def _normalised(code: str) -> str:
    return "".join(ch for ch in (code or "").lower() if ch.isalnum())


def new_recovery_codes(operator: Operator) -> list[str]:
    """Replace the operator's recovery codes; the plain codes are returned to show once."""
    db.session.execute(
        RecoveryCode.__table__.delete().where(RecoveryCode.operator_id == operator.id)
    )
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = secrets.token_hex(5)  # 40 bits each, typed as xxxxx-xxxxx
        codes.append(f"{raw[:5]}-{raw[5:]}")
        db.session.add(RecoveryCode(operator_id=operator.id, code_hash=hash_token(raw)))
    db.session.flush()
    return codes


def spend_recovery_code(operator: Operator, code: str) -> bool:
    """True once per code: it is marked used by the same statement that finds it."""
    spent = db.session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.operator_id == operator.id,
            RecoveryCode.code_hash == hash_token(_normalised(code)),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=datetime.now(UTC))
        .execution_options(synchronize_session=False)
    ).rowcount
    return bool(spent)


def recovery_codes_left(operator: Operator) -> int:
    return db.session.scalar(
        db.select(db.func.count(RecoveryCode.id)).where(
            RecoveryCode.operator_id == operator.id, RecoveryCode.used_at.is_(None)
        )
    )
