use super::*;

#[test]
fn known_tags_are_exactly_the_fields_tags() {
    for ty in MessageType::ALL {
        let fields = ty.fields();
        assert!(fields.windows(2).all(|w| w[0].number < w[1].number), "{ty}");
        for tag in 0..1024 {
            let declared = fields.iter().any(|f| f.tag() == tag);
            assert_eq!(ty.is_known(tag), declared, "{ty} tag {tag}");
        }
    }
}

#[test]
fn names_parse_back() {
    for ty in MessageType::ALL {
        assert_eq!(ty.full_name().parse(), Ok(ty));
        assert_eq!(ty.name().parse(), Ok(ty));
        assert!(ty.full_name().ends_with(ty.name()));
    }
    assert_eq!(
        "atomix.headers.Name".parse::<MessageType>(),
        Err(UnknownMessageType)
    );
    assert_eq!(EnumType::ResponseStatus.value_named("NOT_LEADER"), Some(2));
    assert_eq!(EnumType::ResponseType.value_name(2), Some("CLOSE_STREAM"));
    assert_eq!(EnumType::ResponseType.value_name(3), None);
}
