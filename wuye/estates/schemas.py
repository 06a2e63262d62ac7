"""API shapes of the estate registry."""

from decimal import Decimal

from ninja import Field, Schema

from wuye.core.apitools import NO_NUL, Id, InputSchema, choices_literal
from wuye.estates.models import CommonArea, Community, House

CommunityKind = choices_literal(Community.Kind)
HouseKind = choices_literal(House.Kind)
Occupancy = choices_literal(House.Occupancy)
AreaKind = choices_literal(CommonArea.Kind)


class CompanyOut(Schema):
    id: int
    name: str
    code: str
    contact_phone: str
    address: str


class CommunityOut(Schema):
    id: int
    company_id: int
    name: str
    code: str
    kind: CommunityKind
    province: str
    city: str
    district: str
    address: str
    service_phone: str


class CommunityIn(InputSchema):
    name: str
    code: str
    kind: CommunityKind = Community.Kind.RESIDENTIAL.value
    province: str = ""
    city: str = ""
    district: str = ""
    address: str = ""
    service_phone: str = ""


class CommunityPatch(InputSchema):
    name: str | None = None
    code: str | None = None
    kind: CommunityKind | None = None
    province: str | None = None
    city: str | None = None
    district: str | None = None
    address: str | None = None
    service_phone: str | None = None


class BuildingOut(Schema):
    id: int
    community_id: int
    name: str
    floors_above: int
    floors_below: int
    sort_order: int


class BuildingIn(InputSchema):
    community_id: Id
    name: str
    floors_above: int = 1
    floors_below: int = 0
    sort_order: int = 0


class BuildingPatch(InputSchema):
    name: str | None = None
    floors_above: int | None = None
    floors_below: int | None = None
    sort_order: int | None = None


class UnitOut(Schema):
    id: int
    building_id: int
    name: str
    sort_order: int


class UnitIn(InputSchema):
    building_id: Id
    name: str
    sort_order: int = 0


class UnitPatch(InputSchema):
    name: str | None = None
    sort_order: int | None = None


class HouseOut(Schema):
    id: int
    company_id: int
    community_id: int
    community_name: str
    building_id: int
    building_name: str
    unit_id: int | None
    unit_name: str | None
    number: str
    floor: int
    built_area: Decimal = Field(description="Built-up area in m² (建筑面积).")
    indoor_area: Decimal | None = Field(description="Indoor area in m² (套内面积).")
    kind: HouseKind
    occupancy: Occupancy
    address: str

    @staticmethod
    def resolve_community_name(obj) -> str:
        return obj.community.name

    @staticmethod
    def resolve_building_name(obj) -> str:
        return obj.building.name

    @staticmethod
    def resolve_unit_name(obj) -> str | None:
        return obj.unit.name if obj.unit_id else None


class HouseIn(InputSchema):
    building_id: Id
    unit_id: Id | None = None
    number: str
    floor: int
    built_area: Decimal
    indoor_area: Decimal | None = None
    kind: HouseKind = House.Kind.RESIDENCE.value
    occupancy: Occupancy = House.Occupancy.VACANT.value


class HousePatch(InputSchema):
    number: str | None = None
    floor: int | None = None
    built_area: Decimal | None = None
    indoor_area: Decimal | None = None
    kind: HouseKind | None = None
    occupancy: Occupancy | None = None


class HouseFilters(Schema):
    community: Id | None = Field(None, description="Community id.")
    building: Id | None = Field(None, description="Building id.")
    unit: Id | None = Field(None, description="Unit id.")
    kind: HouseKind | None = None
    occupancy: Occupancy | None = None
    number: str | None = Field(
        None, max_length=32, pattern=NO_NUL, description="Exact house number."
    )
    q: str | None = Field(None, max_length=32, pattern=NO_NUL, description="House number prefix.")


class CommonAreaOut(Schema):
    id: int
    community_id: int
    building_id: int | None
    name: str
    kind: AreaKind
    description: str


class CommonAreaIn(InputSchema):
    community_id: Id
    building_id: Id | None = None
    name: str
    kind: AreaKind = CommonArea.Kind.OTHER.value
    description: str = ""


class CommonAreaPatch(InputSchema):
    name: str | None = None
    kind: AreaKind | None = None
    description: str | None = None
