"""Which operations of Twilio's OpenAPI description the emulator serves, per product (`twilio-emulator coverage`).

A product is a Twilio host, named by its first label as the routes name it (`flex-api` for flex-api.twilio.com),
and its operations are those of every document whose servers name the host. An operation is served when a product
module registers a handler for it (routes.route), exactly as the pipeline finds one; any other is answered 501.
The routes are those of the products the package registers when it is imported.
"""

from __future__ import annotations

from dataclasses import dataclass

from .routes import ASSUMED_ROUTES, TWILIO_DOMAIN, described_handler, product_of
from .spec import Spec


@dataclass(frozen=True)
class CoveredOperation:
    method: str
    path: str  # the path template, e.g. /v1/Workspaces/{WorkspaceSid}
    operation_id: str | None  # as the description names it; None for an assumed operation, which it lacks


@dataclass(frozen=True)
class ProductCoverage:
    product: str
    host: str
    served: tuple[CoveredOperation, ...]
    not_served: tuple[CoveredOperation, ...]
    # Served although the description lacks them (routes.assumed_route).
    assumed: tuple[CoveredOperation, ...]

    @property
    def used(self) -> bool:
        """Whether the emulator registers any route on the product's host: a product the emulator (and the kit) uses."""
        return bool(self.served or self.assumed)


def coverage_by_product(spec: Spec) -> list[ProductCoverage]:
    """Every product of the description, and every product with an assumed route, by name."""
    assumed: dict[str, list[CoveredOperation]] = {}
    for product, method, template in sorted(ASSUMED_ROUTES):
        assumed.setdefault(product, []).append(CoveredOperation(method, template, None))
    hosts = {product_of(host): host for host in spec.hosts()}
    hosts.update({product: f"{product}.{TWILIO_DOMAIN}" for product in assumed if product not in hosts})
    products = []
    for product, host in sorted(hosts.items()):
        served, not_served = [], []
        for operation in spec.operations(host):
            covered = CoveredOperation(operation.method, operation.path_template, operation.operation_id)
            handler = described_handler(host, operation.method, operation.path_template)
            (served if handler is not None else not_served).append(covered)
        products.append(
            ProductCoverage(product, host, tuple(served), tuple(not_served), tuple(assumed.get(product, [])))
        )
    return products
