"""The public service mesh (公共サービスメッシュ): members and their services, grants under legal
bases, agency codes (機関別符号), the signed gateway, access records people can read, consent for
companies and subscriptions. The facade other packages use."""
