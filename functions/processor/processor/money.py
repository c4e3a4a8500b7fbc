"""Amounts and currencies: minor units per currency, and amounts written with the currency's decimals.

One table for every use: Stripe's integer minor units → major units, and the text of `last_order_total`
(`10.00` USD, `12800` JPY, `12.340` KWD), so that a merchant's NOMI template shows money as people
write it whatever source the order came from.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

# docs.stripe.com/currencies: minor units per major unit differ by currency (ISO 4217 agrees on these).
ZERO_DECIMAL_CURRENCIES = frozenset(
    {
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "JPY",
        "KMF",
        "KRW",
        "MGA",
        "PYG",
        "RWF",
        "UGX",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    }
)
THREE_DECIMAL_CURRENCIES = frozenset({"BHD", "JOD", "KWD", "OMR", "TND"})


def decimals(currency: str) -> int:
    """Digits after the decimal point in `currency` (0 for JPY, 3 for KWD, else 2)."""
    code = currency.upper()
    return 0 if code in ZERO_DECIMAL_CURRENCIES else 3 if code in THREE_DECIMAL_CURRENCIES else 2


def to_major_units(amount: int, currency: str) -> Decimal:
    """Integer minor units as an exact Decimal in major units (1500 JPY → 1500; 1250 USD → 12.50)."""
    return Decimal(amount).scaleb(-decimals(currency))


def amount_text(amount: Decimal, currency: str) -> str:
    """`amount` with exactly the currency's decimals: '10.00', '12800', '12.340' (never '1E+1')."""
    quantum = Decimal(1).scaleb(-decimals(currency))
    return format(amount.quantize(quantum, rounding=ROUND_HALF_EVEN), "f")
