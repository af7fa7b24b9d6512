"""Return use cases (writes), each one transaction that locks what it changes, checks the state map
(returns/states.py), writes the return's timeline, notes it on the order's timeline and emits its outbox event:
- requests: request_return (and an exchange's replacement order), approve_return, reject_return, cancel_return;
- receipt: receive_return (dispositions and stock movements), close_return, and the conclusion they lead to;
- refunds: settle_refund (the payment side's reference)."""

from returns.services.exchanges import ExchangeUnavailable
from returns.services.receipt import ReceiptExceedsReturn, ReceiptLine, close_return, receive_return
from returns.services.refunds import StoreCreditNeedsCustomer, settle_refund
from returns.services.requests import (
    ExchangeRequest,
    LineRequest,
    approve_return,
    cancel_return,
    reject_return,
    request_return,
)

__all__ = [
    "ExchangeRequest",
    "ExchangeUnavailable",
    "LineRequest",
    "ReceiptExceedsReturn",
    "ReceiptLine",
    "StoreCreditNeedsCustomer",
    "approve_return",
    "cancel_return",
    "close_return",
    "receive_return",
    "reject_return",
    "request_return",
    "settle_refund",
]
