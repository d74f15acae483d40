// Mantine's Anchor and Button as typed router links (params and search checked against the routes).
import { Anchor, type AnchorProps, Button, type ButtonProps } from "@mantine/core";
import { createLink } from "@tanstack/react-router";
import { type AnchorHTMLAttributes, forwardRef } from "react";

type AProps = AnchorProps & AnchorHTMLAttributes<HTMLAnchorElement>;

const AnchorBase = forwardRef<HTMLAnchorElement, AProps>((props, ref) => <Anchor component="a" ref={ref} {...props} />);
const ButtonBase = forwardRef<HTMLAnchorElement, ButtonProps & AnchorHTMLAttributes<HTMLAnchorElement>>((props, ref) => (
  <Button component="a" ref={ref} {...props} />
));

export const AnchorLink = createLink(AnchorBase);
export const ButtonLink = createLink(ButtonBase);
