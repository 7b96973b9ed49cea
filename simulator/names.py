"""Vietnamese word pools for fake names and places. Nothing here names a real person."""

from __future__ import annotations

FAMILY = (
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Huỳnh",
    "Phan",
    "Vũ",
    "Võ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Hồ",
    "Ngô",
    "Dương",
    "Lý",
    "Đinh",
    "Trịnh",
    "Mai",
    "Lương",
    "Tạ",
    "Đoàn",
    "Cao",
    "Chu",
)
MIDDLE_MALE = ("Văn", "Hữu", "Đức", "Minh", "Quốc", "Thành", "Công", "Xuân", "Đình", "Ngọc")
MIDDLE_FEMALE = ("Thị", "Thị", "Thu", "Ngọc", "Thanh", "Kim", "Mai", "Hồng", "Bích", "Diệu")
GIVEN_MALE = (
    "An",
    "Bình",
    "Cường",
    "Dũng",
    "Đạt",
    "Hải",
    "Hiếu",
    "Hùng",
    "Huy",
    "Khánh",
    "Khoa",
    "Long",
    "Nam",
    "Nghĩa",
    "Phong",
    "Phúc",
    "Quân",
    "Quang",
    "Sơn",
    "Tâm",
    "Thắng",
    "Thịnh",
    "Trung",
    "Tuấn",
    "Việt",
    "Vinh",
)
GIVEN_FEMALE = (
    "Anh",
    "Chi",
    "Dung",
    "Giang",
    "Hà",
    "Hạnh",
    "Hằng",
    "Hoa",
    "Hương",
    "Lan",
    "Linh",
    "Loan",
    "Mai",
    "My",
    "Nga",
    "Ngân",
    "Nhung",
    "Oanh",
    "Phương",
    "Quyên",
    "Thảo",
    "Trang",
    "Trinh",
    "Uyên",
    "Vân",
    "Yến",
)
PLACE = (
    "An",
    "Bình",
    "Phú",
    "Tân",
    "Hòa",
    "Đông",
    "Tây",
    "Nam",
    "Bắc",
    "Thạnh",
    "Long",
    "Xuân",
    "Quang",
    "Hưng",
    "Thịnh",
    "Lộc",
    "Phước",
    "Mỹ",
    "Hiệp",
    "Thanh",
    "Vĩnh",
    "Đức",
    "Minh",
    "Trung",
    "Sơn",
    "Hải",
    "Lâm",
    "Yên",
    "Kim",
    "Ngọc",
    "Phong",
    "Lạc",
    "Hà",
    "Thái",
    "Khánh",
    "Định",
    "Thuận",
    "Châu",
    "Cẩm",
    "Gia",
)
STREET = (
    "Trần Hưng Đạo",
    "Lê Lợi",
    "Nguyễn Trãi",
    "Hai Bà Trưng",
    "Quang Trung",
    "Lý Thường Kiệt",
    "Lê Duẩn",
    "Hùng Vương",
    "Điện Biên Phủ",
    "Phan Chu Trinh",
)
STAFF_ROLES = ("Chuyên viên", "Công chức", "Cán bộ một cửa", "Phó trưởng phòng", "Trưởng phòng")
ACCENT_FREE = str.maketrans(
    "àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ"
    "ÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬÈÉẺẼẸÊỀẾỂỄỆÌÍỈĨỊÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢÙÚỦŨỤƯỪỨỬỮỰỲÝỶỸỴĐ",
    "aaaaaaaaaaaaaaaaaeeeeeeeeeeeiiiiiooooooooooooooooouuuuuuuuuuuyyyyyd"
    "AAAAAAAAAAAAAAAAAEEEEEEEEEEEIIIIIOOOOOOOOOOOOOOOOOUUUUUUUUUUUYYYYYD",
)


def ascii_fold(text: str) -> str:
    return text.translate(ACCENT_FREE)


def person(code: int) -> str:
    """A full name from an integer: decodes the pools mixed-radix, so it is fast and stable."""
    female = code & 1
    code >>= 1
    fam = FAMILY[code % len(FAMILY)]
    code //= len(FAMILY)
    mids = MIDDLE_FEMALE if female else MIDDLE_MALE
    mid = mids[code % len(mids)]
    code //= len(mids)
    givens = GIVEN_FEMALE if female else GIVEN_MALE
    return f"{fam} {mid} {givens[code % len(givens)]}"
