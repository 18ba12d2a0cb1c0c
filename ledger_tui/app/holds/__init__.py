"""The Holds screen: money held pending, with capture, partial capture and void."""
