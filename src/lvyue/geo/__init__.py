"""Regions (行政区划与地址): administrative divisions with GB/T 2260 codes and the address
parser.

>>> from lvyue.geo import parse_address
>>> parse_address("广东深圳南山区科技园").district_code
'440305'
"""

from lvyue.geo.address import (
    AddressError,
    AmbiguousAddressError,
    ParsedAddress,
    parse_address,
    parse_addresses,
)
from lvyue.geo.divisions import City, District, Province, cities, division, divisions

__all__ = [
    "AddressError",
    "AmbiguousAddressError",
    "City",
    "District",
    "ParsedAddress",
    "Province",
    "cities",
    "division",
    "divisions",
    "parse_address",
    "parse_addresses",
]
