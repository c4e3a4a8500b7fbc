"""The slice of Shopify's GraphQL Admin schema the gateway uses, and a small executor over it.

A query is parsed into selections (fields, arguments, inline fragments; no aliases, no named
fragments) and checked against `TYPES` the way Shopify checks it: an unknown field is an error naming
the field and its type. Execution resolves the selection over plain dicts, so an answer holds exactly
the fields asked for. Cost follows Shopify's published rules (scalars and enums 0, objects 1, lists
multiplied by `first`, mutations 10) as far as this slice needs them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

# type → field → (type of the field or None for a scalar/enum, is it a list)
TYPES: dict[str, dict[str, tuple[str | None, bool]]] = {
    "QueryRoot": {
        "order": ("Order", False),
        "customer": ("Customer", False),
        "customers": ("CustomerConnection", False),
        "currentBulkOperation": ("BulkOperation", False),
        "node": ("Node", False),
    },
    "Mutation": {"bulkOperationRunQuery": ("BulkOperationRunQueryPayload", False)},
    "BulkOperationRunQueryPayload": {
        "bulkOperation": ("BulkOperation", False),
        "userErrors": ("UserError", True),
    },
    "UserError": {"field": (None, False), "message": (None, False), "code": (None, False)},
    "Node": {"id": (None, False)},
    "BulkOperation": {
        name: (None, False)
        for name in [
            "id",
            "status",
            "errorCode",
            "createdAt",
            "completedAt",
            "objectCount",
            "rootObjectCount",
            "fileSize",
            "url",
            "partialDataUrl",
            "query",
            "type",
        ]
    },
    "Order": {
        **{
            name: (None, False)
            for name in [
                "id",
                "name",
                "email",
                "phone",
                "createdAt",
                "updatedAt",
                "processedAt",
                "cancelledAt",
                "test",
                "displayFinancialStatus",
                "displayFulfillmentStatus",
                "customerAcceptsMarketing",
                "clientIp",
                "currencyCode",
                "presentmentCurrencyCode",
            ]
        },
        "totalPriceSet": ("MoneyBag", False),
        "currentTotalPriceSet": ("MoneyBag", False),
        "customAttributes": ("Attribute", True),
        "customerJourneySummary": ("CustomerJourneySummary", False),
        "customer": ("Customer", False),
        "shippingAddress": ("MailingAddress", False),
        "billingAddress": ("MailingAddress", False),
        "fulfillments": ("Fulfillment", True),
    },
    "MoneyBag": {"shopMoney": ("MoneyV2", False), "presentmentMoney": ("MoneyV2", False)},
    "MoneyV2": {"amount": (None, False), "currencyCode": (None, False)},
    "Attribute": {"key": (None, False), "value": (None, False)},
    "CustomerJourneySummary": {"firstVisit": ("CustomerVisit", False), "lastVisit": ("CustomerVisit", False)},
    "CustomerVisit": {
        "landingPage": (None, False),
        "referrerUrl": (None, False),
        "occurredAt": (None, False),
    },
    "Customer": {
        **{
            name: (None, False)
            for name in ["id", "email", "phone", "firstName", "lastName", "createdAt", "updatedAt"]
        },
        "smsMarketingConsent": ("CustomerSmsMarketingConsentState", False),
        "emailMarketingConsent": ("CustomerEmailMarketingConsentState", False),
        "defaultAddress": ("MailingAddress", False),
    },
    "CustomerSmsMarketingConsentState": {
        name: (None, False)
        for name in ["marketingState", "marketingOptInLevel", "consentUpdatedAt", "consentCollectedFrom"]
    },
    "CustomerEmailMarketingConsentState": {
        name: (None, False) for name in ["marketingState", "marketingOptInLevel", "consentUpdatedAt"]
    },
    "MailingAddress": {
        name: (None, False)
        for name in [
            "firstName",
            "lastName",
            "phone",
            "provinceCode",
            "countryCodeV2",
            "city",
            "zip",
            "address1",
        ]
    },
    "Fulfillment": {
        **{name: (None, False) for name in ["id", "name", "status", "createdAt", "updatedAt"]},
        "trackingInfo": ("FulfillmentTrackingInfo", True),
    },
    "FulfillmentTrackingInfo": {"company": (None, False), "number": (None, False), "url": (None, False)},
    "CustomerConnection": {"edges": ("CustomerEdge", True), "nodes": ("Customer", True)},
    "CustomerEdge": {"node": ("Customer", False), "cursor": (None, False)},
}

MUTATION_COST = 10

_TOKEN = re.compile(
    r'\s*(?:(\.\.\.)|("(?:[^"\\]|\\.)*")|([A-Za-z_$][A-Za-z0-9_]*)|(-?\d+(?:\.\d+)?)|([{}():!,\[\]=]))'
)


class GraphQLError(Exception):
    """A query Shopify would refuse; `code` goes into `extensions.code`."""

    def __init__(self, message: str, code: str = "GRAPHQL_VALIDATION_FAILED") -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Selection:
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    children: list[Selection] = field(default_factory=list)
    on_type: str | None = None  # an inline fragment `... on Type { }`


@dataclass
class Operation:
    kind: str  # "query" | "mutation"
    selections: list[Selection]


def _tokens(text: str) -> list[str]:
    tokens, position = [], 0
    text = re.sub(r"#[^\n]*", "", text)
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None:
            raise GraphQLError(f"Parse error on {text[position : position + 20]!r}")
        tokens.append(next(g for g in match.groups() if g is not None))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str, variables: dict[str, Any]) -> None:
        self.tokens = _tokens(text)
        self.position = 0
        self.variables = variables

    def peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            raise GraphQLError(f"Parse error: expected {expected or 'a token'}, got {token!r}")
        self.position += 1
        return token

    def operation(self) -> Operation:
        kind = "query"
        if self.peek() in ("query", "mutation"):
            kind = self.take()
            if self.peek() not in ("{", "("):
                self.take()  # the operation's name
            if self.peek() == "(":
                self._skip_group("(", ")")  # variable definitions: values come from `variables`
        selections = self.selection_set()
        if self.peek() is not None:
            raise GraphQLError("Parse error: one operation per document")
        return Operation(kind, selections)

    def _skip_group(self, opening: str, closing: str) -> None:
        depth = 0
        while True:
            token = self.take()
            depth += token == opening
            depth -= token == closing
            if depth == 0:
                return

    def selection_set(self) -> list[Selection]:
        self.take("{")
        selections = []
        while self.peek() != "}":
            if self.peek() == "...":
                self.take()
                self.take("on")
                type_name = self.take()
                selections.append(Selection("...", on_type=type_name, children=self.selection_set()))
                continue
            name = self.take()
            if self.peek() == ":":
                raise GraphQLError("aliases are not supported by the local Shopify")
            selection = Selection(name)
            if self.peek() == "(":
                selection.arguments = self.arguments()
            if self.peek() == "{":
                selection.children = self.selection_set()
            selections.append(selection)
        self.take("}")
        return selections

    def arguments(self) -> dict[str, Any]:
        self.take("(")
        arguments: dict[str, Any] = {}
        while self.peek() != ")":
            name = self.take()
            self.take(":")
            arguments[name] = self.value()
            if self.peek() == ",":
                self.take()
        self.take(")")
        return arguments

    def value(self) -> Any:
        token = self.take()
        if token.startswith("$"):
            return self.variables.get(token[1:])
        if token.startswith('"'):
            return bytes(token[1:-1], "utf-8").decode("unicode_escape")
        if re.fullmatch(r"-?\d+", token):
            return int(token)
        literals: dict[str, Any] = {"true": True, "false": False, "null": None}
        return literals.get(token, token)  # else an enum value


def parse(text: str, variables: dict[str, Any] | None = None) -> Operation:
    return _Parser(text, variables or {}).operation()


def validate(selections: list[Selection], type_name: str) -> None:
    """Raise GraphQLError for a field the type does not have, or a scalar given a selection."""
    fields = TYPES[type_name]
    for selection in selections:
        if selection.on_type is not None:
            if selection.on_type not in TYPES:
                raise GraphQLError(f"No such type {selection.on_type}, so it can't be a fragment condition")
            validate(selection.children, selection.on_type)
            continue
        if selection.name not in fields:
            raise GraphQLError(
                f"Field '{selection.name}' doesn't exist on type '{type_name}'", code="undefinedField"
            )
        child_type, _ = fields[selection.name]
        if child_type is None and selection.children:
            raise GraphQLError(f"Selections can't be made on scalars (field '{selection.name}')")
        if child_type is not None and not selection.children:
            raise GraphQLError(f"Field must have selections (field '{selection.name}' returns {child_type})")
        if child_type is not None:
            validate(selection.children, child_type)


def requested_cost(selections: list[Selection], type_name: str) -> int:
    """Shopify's worst-case cost: 1 per object, × `first` for lists (default 1 here)."""
    total = 0
    for selection in selections:
        if selection.on_type is not None:
            total += requested_cost(selection.children, selection.on_type)
            continue
        child_type, is_list = TYPES[type_name][selection.name]
        if child_type is None:
            continue
        per_item = 1 + requested_cost(selection.children, child_type)
        total += per_item * (int(selection.arguments.get("first", 1)) if is_list else 1)
    return total


@dataclass
class Resolution:
    """Executing a selection: the value and the objects it touched (the actual cost)."""

    objects: int = 0


def resolve(value: Any, selections: list[Selection], type_name: str, tally: Resolution) -> Any:
    """The selected fields of `value` (a dict in GraphQL shape), recursively; lists sliced by `first`."""
    if value is None:
        return None
    if isinstance(value, list):
        return [resolve(item, selections, type_name, tally) for item in value]
    tally.objects += 1
    answer: dict[str, Any] = {}
    for selection in selections:
        if selection.on_type is not None:
            if value.get("__typename") == selection.on_type:
                answer.update(resolve(value, selection.children, selection.on_type, tally))
            continue
        child_type, is_list = TYPES[type_name][selection.name]
        item = value.get(selection.name)
        if is_list and isinstance(item, list) and "first" in selection.arguments:
            item = item[: int(selection.arguments["first"])]
        answer[selection.name] = (
            item if child_type is None else resolve(item, selection.children, child_type, tally)
        )
    return answer
